using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Streaming.Api;
using Streaming.Hosting;
using Streaming.Hosting.Supervision;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApi();
// Under ./run.sh's supervisor: where the API and dashboards are, and the tokens to sign in with, into endpoints.json.
builder.AnnounceWhenStarted(configuration => new JsonObject
{
    ["httpUrl"] = configuration["urls"],
    ["tokensFile"] = configuration["Api:TokensFile"] is { Length: > 0 } tokens ? Path.GetFullPath(tokens) : null,
});
var app = builder.Build();
app.MapApi();
app.Lifetime.ApplicationStarted.Register(() =>
{
    var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
    var tokens = app.Configuration["Api:TokensFile"] is { Length: > 0 } file ? Path.GetFullPath(file) : "the tokens file";
    foreach (var address in addresses)
    {
        app.Logger.LogInformation("Dashboards: {Address}/fleet and {Address}/job?id=JOB (sign in with a token from {TokensFile})", address, address, tokens);
    }
});
return await app.RunToExitCodeAsync();
