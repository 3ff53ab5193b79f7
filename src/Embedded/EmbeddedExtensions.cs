using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;
using Streaming.Embedded.Broker;
using Streaming.Embedded.Fleet;
using Streaming.Hosting;
using Streaming.Hosting.Kafka;
using Streaming.Ingest;
using Streaming.Ingest.Consuming;
using Streaming.Projector;
using Streaming.Promoter;

namespace Streaming.Embedded;

public static class EmbeddedExtensions
{
    /// <summary>
    /// Points every Kafka client of the process at <paramref name="cluster"/> and creates the contract's topics on it, and
    /// in a sharded store each shard's group topic.
    /// </summary>
    public static IHostApplicationBuilder UseEmbeddedKafka(this IHostApplicationBuilder builder, EmbeddedKafkaCluster cluster)
    {
        var kafka = new KafkaOptions();
        builder.Configuration.GetSection(KafkaOptions.Section).Bind(kafka);
        foreach (var topic in new[] { kafka.SignalsTopic, kafka.SignalsDeadLetterTopic, kafka.PhaseChangesTopic })
        {
            cluster.CreateTopic(topic, kafka.Partitions);
        }
        foreach (var (topic, partitions) in kafka.ShardGroupTopics(new ShardMap(ServiceDefaults.ReadServedShard(builder.Configuration).Shards, kafka.Partitions)))
        {
            cluster.CreateTopic(topic, partitions);
        }
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = cluster.BootstrapServers,
            ["Kafka:CreateTopics"] = "false",
            ["Ingest:ForgetStoredOffsetsOnStart"] = "true",
            ["Kafka:ConsumerSessionTimeout"] = builder.Configuration["Kafka:ConsumerSessionTimeout"] ?? "00:00:05",
        });
        return builder;
    }

    /// <summary>
    /// With Ingest in this process (<see cref="AddServices"/> first): deletes from <paramref name="cluster"/> the signals it
    /// has stored, all but the last few of each partition (<see cref="StoredSignalsTrim"/>).
    /// </summary>
    public static IHostApplicationBuilder TrimStoredSignals(this IHostApplicationBuilder builder, EmbeddedKafkaCluster cluster)
    {
        if (!builder.Services.Any(s => s.ServiceType == typeof(StoredSignalOffsets)))
        {
            return builder;
        }
        var kafka = new KafkaOptions();
        builder.Configuration.GetSection(KafkaOptions.Section).Bind(kafka);
        builder.Services.AddHostedService(sp =>
        {
            var offsets = sp.GetRequiredService<StoredSignalOffsets>();
            return new StoredSignalsTrim(cluster, kafka.SignalsTopic, _ => Task.FromResult(offsets.Snapshot()), sp.GetRequiredService<ILogger<StoredSignalsTrim>>());
        });
        return builder;
    }

    /// <summary>
    /// Publishes the endpoints once the process has started: printed, and written to the endpoints file, which is removed
    /// when the process stops. Registered last, so it stops first.
    /// </summary>
    public static IHostApplicationBuilder PublishEndpoints(this IHostApplicationBuilder builder, EmbeddedKafkaCluster cluster)
    {
        var kafka = new KafkaOptions();
        builder.Configuration.GetSection(KafkaOptions.Section).Bind(kafka);
        var endpoints = new EmbeddedEndpoints(
            cluster.BootstrapServers,
            Redacted(ServiceDefaults.RequireConnectionString(builder.Configuration)),
            kafka.SignalsTopic,
            kafka.SignalsDeadLetterTopic,
            kafka.PhaseChangesTopic,
            builder.Configuration["Embedded:HttpUrl"],
            builder.Configuration["Api:TokensFile"] is { Length: > 0 } tokens ? Path.GetFullPath(tokens) : null);
        var content = JsonSerializer.SerializeToNode(endpoints, EmbeddedEndpoints.JsonOptions)!.AsObject();
        builder.Services.AddHostedService(sp => new EndpointsPublication(
            sp.GetRequiredService<IHostApplicationLifetime>(), content, builder.Configuration["Embedded:EndpointsFile"]));
        return builder;
    }

    /// <summary>
    /// Serves the API and dashboards on <c>Embedded:HttpPort</c> of 127.0.0.1 (0: a free port), with the default tokens kept
    /// beside the endpoints file unless <c>Api:TokensFile</c> says where.
    /// </summary>
    public static WebApplicationBuilder UseEmbeddedHttp(this WebApplicationBuilder builder)
    {
        var port = builder.Configuration.GetValue("Embedded:HttpPort", 5080);
        if (port == 0)
        {
            using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }
        var url = $"http://127.0.0.1:{port}";
        builder.WebHost.UseUrls(url);
        var settings = new Dictionary<string, string?> { ["Embedded:HttpUrl"] = url };
        if (string.IsNullOrEmpty(builder.Configuration["Api:TokensFile"]) && builder.Configuration["Embedded:EndpointsFile"] is { Length: > 0 } endpoints)
        {
            settings["Api:TokensFile"] = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(endpoints))!, "api-tokens.json");
        }
        builder.Configuration.AddInMemoryCollection(settings);
        return builder;
    }

    /// <summary>The services to run in this process: a comma-separated subset of ingest, projector, promoter.</summary>
    public static IHostApplicationBuilder AddServices(this IHostApplicationBuilder builder, string services)
    {
        var names = services.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var unknown = names.Except(["ingest", "projector", "promoter"], StringComparer.OrdinalIgnoreCase).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"Embedded:Services names unknown services: {string.Join(", ", unknown)}");
        }
        if (names.Contains("ingest"))
        {
            builder.AddIngest();
        }
        if (names.Contains("projector"))
        {
            builder.AddProjector();
        }
        if (names.Contains("promoter"))
        {
            builder.AddPromoter();
        }
        return builder;
    }

    /// <summary>The embedded broker alone, for a supervisor to start before the services (<c>Streaming.Embedded broker</c>).</summary>
    public static IHostApplicationBuilder AddStandaloneBroker(this IHostApplicationBuilder builder)
    {
        // Announced to the services: as in the all-in-one process, a consumer that died leaves its partitions after 5 s.
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kafka:ConsumerSessionTimeout"] = builder.Configuration["Kafka:ConsumerSessionTimeout"] ?? "00:00:05",
        });
        builder.Services.AddOptions<IngestOptions>().BindConfiguration(IngestOptions.Section);
        // It forgets the Ingest's stored offsets of a fresh broker's topics: the Ingest's table must exist first.
        builder.Services.AddSchemaMigrations(IngestSchema.Migrations);
        builder.Services.AddSignalLog();
        builder.Services.AddHostedService<StandaloneBroker>();
        return builder;
    }

    public static IHostApplicationBuilder AddFleet(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<IngestOptions>().BindConfiguration(IngestOptions.Section);
        builder.Services.AddOptions<FleetOptions>().BindConfiguration(FleetOptions.Section)
            .Validate(o => o.Jobs > 0, "Fleet:Jobs must be positive")
            .Validate(o => o.MaxUnstoredPerPartition > 0, "Fleet:MaxUnstoredPerPartition must be positive")
            .ValidateOnStart();
        if (builder.Configuration.GetValue("Fleet:Enabled", true))
        {
            builder.Services.AddSignalLog();
            builder.Services.AddHostedService<FleetSimulator>();
        }
        return builder;
    }

    static string Redacted(string connectionString)
    {
        var parsed = new NpgsqlConnectionStringBuilder(connectionString);
        if (!string.IsNullOrEmpty(parsed.Password))
        {
            parsed.Password = "***";
        }
        return parsed.ConnectionString;
    }
}
