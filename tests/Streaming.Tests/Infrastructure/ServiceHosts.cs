using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streaming.Hosting;

namespace Streaming.Tests.Infrastructure;

/// <summary>Services hosted as in production, against a test's store and brokers.</summary>
public static class ServiceHosts
{
    public static IHost Build(
        string connectionString,
        string bootstrapServers,
        Func<IHostApplicationBuilder, IHostApplicationBuilder> services,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:EventStore"] = connectionString,
            ["Kafka:BootstrapServers"] = bootstrapServers,
            ["Kafka:CreateTopics"] = "false",
            ["Ingest:MaxBatchWait"] = "00:00:00.010",
            ["Promoter:PolicyScanInterval"] = "00:00:01",
            // A consumer stopped while joining leaves a member behind until its session times out; keep that short here.
            ["Kafka:ConsumerSessionTimeout"] = "00:00:06",
            ["Kafka:Client:debug"] = Environment.GetEnvironmentVariable("STREAMING_TEST_KAFKA_DEBUG"),
            ["Serilog:MinimumLevel:Default"] = Environment.GetEnvironmentVariable("STREAMING_TEST_LOG_LEVEL") ?? "Warning",
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }
        builder.AddServiceDefaults();
        services(builder);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
        return builder.Build();
    }
}
