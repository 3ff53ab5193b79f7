using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Streaming.Hosting.Supervision;

namespace Streaming.Embedded;

/// <summary>
/// Prints the endpoints once the process has started (every hosted service, the web server's listener included) and
/// writes them to the endpoints file, which it removes when the process stops.
/// </summary>
sealed class EndpointsPublication(IHostApplicationLifetime lifetime, JsonObject endpoints, string? path) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (path is { Length: > 0 } && EndpointsFile.Claim(path) is { } stale)
        {
            Console.WriteLine($"Removed a stale {path} (written by process {stale.Pid}, which is gone)");
        }
        lifetime.ApplicationStarted.Register(Publish);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (path is { Length: > 0 })
        {
            EndpointsFile.RemoveIfOwned(path);
        }
        return Task.CompletedTask;
    }

    void Publish()
    {
        if (path is { Length: > 0 })
        {
            var json = EndpointsFile.Write(path, endpoints);
            Console.WriteLine($"Endpoints (also in {path}):{Environment.NewLine}{json}");
        }
        else
        {
            Console.WriteLine(endpoints.ToJsonString());
        }
        if (endpoints["httpUrl"]?.GetValue<string>() is { } http)
        {
            Console.WriteLine($"Dashboards: {http}/fleet (sign in with a token from {endpoints["tokensFile"]?.GetValue<string>() ?? "the tokens file"})");
        }
    }
}
