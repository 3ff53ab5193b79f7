using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Streaming.Hosting.Supervision;

namespace Streaming.Api;

/// <summary>What the API does when it runs as a process of its own (src/Hosts/Api) rather than inside the all-in-one.</summary>
public static class StandaloneApiExtensions
{
    /// <summary>The API, and under ./run.sh's supervisor: where it and the dashboards are, and the tokens to sign in with, into endpoints.json.</summary>
    public static WebApplicationBuilder AddStandaloneApi(this WebApplicationBuilder builder)
    {
        builder.AddApi();
        builder.AnnounceWhenStarted(configuration => new JsonObject
        {
            ["httpUrl"] = configuration["urls"],
            ["tokensFile"] = configuration["Api:TokensFile"] is { Length: > 0 } tokens ? Path.GetFullPath(tokens) : null,
        });
        return builder;
    }

    /// <summary>Logs where the dashboards are once the server listens.</summary>
    public static WebApplication LogDashboardsWhenStarted(this WebApplication app)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var tokens = app.Configuration["Api:TokensFile"] is { Length: > 0 } file ? Path.GetFullPath(file) : "the tokens file";
            foreach (var address in addresses)
            {
                app.Logger.LogInformation("Dashboards: {Address}/fleet and {Address}/job?id=JOB (sign in with a token from {TokensFile})", address, address, tokens);
            }
        });
        return app;
    }
}
