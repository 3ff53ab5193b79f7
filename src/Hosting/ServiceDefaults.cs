using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Streaming.EventStore;
using Streaming.Hosting.Health;
using Streaming.Hosting.Kafka;
using Streaming.Hosting.Logging;
using Streaming.Hosting.Resilience;
using Streaming.Hosting.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Streaming.Hosting;

/// <summary>What every Streaming process shares: logging, Kafka options, the event store's data source and its schema.</summary>
public static class ServiceDefaults
{
    public const string EventStoreConnection = "EventStore";

    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        builder.Services.AddStreamingLogging(builder.Configuration);
        builder.Services.AddOptions<KafkaOptions>()
            .BindConfiguration(KafkaOptions.Section)
            .Validate(o => !string.IsNullOrWhiteSpace(o.BootstrapServers), "Kafka:BootstrapServers is required")
            .Validate(o => o.Partitions > 0, "Kafka:Partitions must be positive")
            .Validate(o => o.ShardGroupTopic.Contains("{shard}", StringComparison.Ordinal), "Kafka:ShardGroupTopic must hold {shard}: each shard's groups share out a topic of their own")
            .ValidateOnStart();
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<KafkaOptions>>().Value);
        builder.Services.AddSingleton<TopicProvisioner>();
        builder.Services.TryAddSingleton<LoopHealth>();
        // The shard this process serves (shard 0 but for a Projector or a Promoter told Store:Shard): its one data source.
        var served = ReadServedShard(builder.Configuration);
        builder.Services.AddSingleton(served);
        // Named, so metrics label its pool "event-store" rather than with the connection string (host, port, user), and
        // its sessions carry the process's name (pg_stat_activity's application_name), which `streaming reshard` names
        // when it refuses to run beside a service.
        builder.Services.AddSingleton(_ => new NpgsqlDataSourceBuilder(
            WithApplicationName(RequireShardConnectionString(builder.Configuration, served.Shard), builder.Environment.ApplicationName)) { Name = "event-store" }.Build());
        builder.Services.AddSingleton(sp => RequireStoreShards(builder.Configuration, served, sp.GetRequiredService<NpgsqlDataSource>()));
        builder.Services.AddSingleton(sp => served.IsControlHome
            ? ControlStore.Local(sp.GetRequiredService<NpgsqlDataSource>())
            : ControlStore.Remote(sp.GetRequiredService<StoreShards>().DataSource(0), RequireShardConnectionString(builder.Configuration, 0)));
        builder.Services.AddEventStore();
        builder.AddHealthProbe();
        builder.Services.AddHostedService<EventStoreMigration>();
        builder.AddStreamingTelemetry();
        return builder;
    }

    /// <summary><paramref name="connectionString"/> with <paramref name="applicationName"/> as its sessions' name, unless it names them already.</summary>
    public static string WithApplicationName(string connectionString, string applicationName)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        builder.ApplicationName ??= applicationName;
        return builder.ConnectionString;
    }

    public static string RequireConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString(EventStoreConnection)
        ?? throw new InvalidOperationException(
            $"ConnectionStrings:{EventStoreConnection} is required (environment variable ConnectionStrings__{EventStoreConnection})");

    /// <summary>How many PostgreSQL clusters the store is sharded over (<see cref="ShardMap"/>); 1, the default, is one store.</summary>
    public const string ShardsKey = "Store:Shards";

    /// <summary>Which shard of <see cref="ShardsKey"/> a Projector's or a Promoter's process serves (<see cref="ServedShard"/>); 0, the default, also for every other process.</summary>
    public const string ShardKey = "Store:Shard";

    /// <summary>The shard this process serves, from <see cref="ShardKey"/> and <see cref="ShardsKey"/>.</summary>
    public static ServedShard ReadServedShard(IConfiguration configuration)
    {
        var shards = configuration.GetValue<int?>(ShardsKey) ?? 1;
        var shard = configuration.GetValue<int?>(ShardKey) ?? 0;
        if (shards < 1 || shard < 0 || shard >= shards)
        {
            throw new InvalidOperationException($"{ShardKey} must be a shard of the {ShardsKey} ({shards}): 0 to {shards - 1}, not {shard}");
        }
        return new ServedShard(shard, shards);
    }

    /// <summary>Shard <paramref name="shard"/>'s connection string (shard 0's is <see cref="EventStoreConnection"/>).</summary>
    public static string RequireShardConnectionString(IConfiguration configuration, int shard) =>
        shard == 0
            ? RequireConnectionString(configuration)
            : configuration.GetConnectionString(ShardConnectionName(shard))
              ?? throw new InvalidOperationException(
                  $"Shard {shard} needs ConnectionStrings:{ShardConnectionName(shard)} (environment variable ConnectionStrings__{ShardConnectionName(shard)})");

    /// <summary>The connection string of shard <paramref name="shard"/>'s name: shard 0 is <see cref="EventStoreConnection"/>, shard s &gt; 0 <c>EventStoreShard{s}</c>.</summary>
    public static string ShardConnectionName(int shard) => shard == 0 ? EventStoreConnection : $"{EventStoreConnection}Shard{shard}";

    /// <summary>Each shard's connection string, shard 0 first; every shard of <see cref="ShardsKey"/> must have one.</summary>
    public static IReadOnlyList<string> RequireShardConnectionStrings(IConfiguration configuration)
    {
        var shards = configuration.GetValue<int?>(ShardsKey) ?? 1;
        if (shards < 1)
        {
            throw new InvalidOperationException($"{ShardsKey} must be at least 1, not {shards}");
        }
        return
        [
            .. Enumerable.Range(0, shards).Select(shard => configuration.GetConnectionString(ShardConnectionName(shard))
                ?? throw new InvalidOperationException(
                    $"{ShardsKey} is {shards}, so ConnectionStrings:{ShardConnectionName(shard)} is required (environment variable ConnectionStrings__{ShardConnectionName(shard)})")),
        ];
    }

    /// <summary>
    /// The store's shards as configured (<see cref="ShardsKey"/>): the shard the process serves is <paramref name="own"/>,
    /// its data source; each other shard gets one of its own. More than one shard needs <c>Store:LogPartitions</c> set, to
    /// at least the number of shards: each shard holds whole partitions, and every shard's store has that count.
    /// </summary>
    public static StoreShards RequireStoreShards(IConfiguration configuration, ServedShard served, NpgsqlDataSource own)
    {
        var connectionStrings = RequireShardConnectionStrings(configuration);
        var shards = connectionStrings.Count;
        if (shards == 1)
        {
            return StoreShards.Single(own);
        }
        var partitions = configuration.GetValue<int?>(EventStoreMigration.LogPartitionsKey)
            ?? throw new InvalidOperationException(
                $"{ShardsKey} is {shards}, so {EventStoreMigration.LogPartitionsKey} is required: the log's partition count, at least {shards} " +
                "(each shard holds whole partitions, and every shard's store is created with that count)");
        if (partitions < shards)
        {
            throw new InvalidOperationException(
                $"{ShardsKey} is {shards} but {EventStoreMigration.LogPartitionsKey} only {partitions}: each shard holds at least one log partition, " +
                $"so {EventStoreMigration.LogPartitionsKey} must be at least {shards}");
        }
        return new StoreShards(
            new ShardMap(shards, partitions),
            [
                .. connectionStrings.Select((connectionString, shard) => shard == served.Shard
                    ? own
                    : new NpgsqlDataSourceBuilder(connectionString) { Name = $"event-store-shard-{shard}" }.Build()),
            ],
            served.Shard);
    }

    /// <summary>The event store's connection string from the environment, for the command-line tools.</summary>
    public static string ConnectionStringFromEnvironment() =>
        RequireConnectionString(new ConfigurationBuilder().AddEnvironmentVariables().Build());
}
