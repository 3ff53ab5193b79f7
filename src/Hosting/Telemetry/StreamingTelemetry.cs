using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Streaming.Hosting.Telemetry;

/// <summary>
/// OpenTelemetry metrics for every Streaming process: the <see cref="MeterName"/> meter the services' observable
/// instruments live in, Npgsql's own instrumentation and the runtime's; exported over OTLP when an endpoint is
/// configured (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or <c>Telemetry:OtlpEndpoint</c>). A process that serves HTTP adds
/// its Prometheus endpoint through <paramref name="configure"/>.
/// </summary>
public static class StreamingTelemetry
{
    public const string MeterName = "Streaming";

    /// <summary>The one meter of the process's own instruments.</summary>
    public static Meter Meter { get; } = new(MeterName, "1.0");

    public static IHostApplicationBuilder AddStreamingTelemetry(this IHostApplicationBuilder builder, Action<MeterProviderBuilder>? configure = null)
    {
        var otlp = builder.Configuration["Telemetry:OtlpEndpoint"] is { Length: > 0 } configured
            ? configured
            : builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        var hostMeterName = builder.Configuration["Telemetry:MeterName"] is { Length: > 0 } named ? named : MeterName;
        if (hostMeterName != MeterName)
        {
            builder.Services.AddSingleton<IMeterFactory>(_ => new HostMeterFactory(hostMeterName));
        }
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Environment.ApplicationName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(MeterName, hostMeterName).AddNpgsqlInstrumentation().AddRuntimeInstrumentation();
                if (!string.IsNullOrEmpty(otlp))
                {
                    metrics.AddOtlpExporter(o => o.Endpoint = new Uri(otlp));
                }
                configure?.Invoke(metrics);
            });
        return builder;
    }
}
