using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Hosting.Resilience;

namespace Streaming.Hosting.Health;

public static class HealthProbeExtensions
{
    /// <summary>The health probe on 127.0.0.1:<c>Health:Port</c> when that is set (the service images set it); none otherwise.</summary>
    public static IHostApplicationBuilder AddHealthProbe(this IHostApplicationBuilder builder)
    {
        if (builder.Configuration["Health:Port"] is { Length: > 0 } value)
        {
            var port = int.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var parsed) && parsed is > 0 and < 65536
                ? parsed
                : throw new InvalidOperationException($"Health:Port must be a TCP port, not '{value}'");
            builder.Services.AddHostedService(sp => new HealthProbe(
                port, sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<LoopHealth>(), sp.GetRequiredService<ILogger<HealthProbe>>()));
        }
        return builder;
    }
}
