using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Streaming.Api.Shards;
using Streaming.Cli;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>
/// A store sharded over two PostgreSQL clusters of the test's own (each on its own port and data folder), 4 log
/// partitions, shard 0 migrated as the host migrates it and shard 1 by the API's shard migration, and the API's
/// <see cref="StoreShards"/> over them as the API registers it (<c>Store:Shards</c> = 2 and the shards' connection strings).
/// </summary>
public sealed class TwoShardStore : IAsyncLifetime
{
    public const int Partitions = 4;

    readonly PrivatePostgres _first = new();
    readonly PrivatePostgres _second = new();
    NpgsqlDataSource? _shard0;
    ServiceProvider? _services;

    public StoreShards Shards { get; private set; } = null!;

    public ShardMap Map { get; } = new(2, Partitions);

    public LogPartitioner Partitioner { get; } = new(Partitions, ControlStreamPrefixes.All);

    /// <summary>The shard a job's stream and rows live on.</summary>
    public int ShardOf(string jobId) => Map.ShardOf(Partitioner.PartitionOf(jobId));

    public async Task InitializeAsync()
    {
        await Task.WhenAll(_first.StartAsync(), _second.StartAsync());
        _shard0 = NpgsqlDataSource.Create(_first.ConnectionString);
        await EventStoreSchema.MigrateAsync(_shard0, StoreSchema.ServiceMigrations, Partitioner, CancellationToken.None);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Store:Shards"] = "2",
            ["ConnectionStrings:EventStore"] = _first.ConnectionString,
            ["ConnectionStrings:EventStoreShard1"] = _second.ConnectionString,
        }).Build());
        services.AddSingleton(_shard0);
        services.AddSingleton<LoopHealth>();
        services.AddSchemaMigrations(StoreSchema.ServiceMigrations);
        services.AddStoreShards();
        _services = services.BuildServiceProvider();
        foreach (var hosted in _services.GetServices<IHostedService>())
        {
            await hosted.StartAsync(CancellationToken.None);
        }
        Shards = _services.GetRequiredService<StoreShards>();
    }

    public async Task DisposeAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }
        if (_shard0 is not null)
        {
            await _shard0.DisposeAsync();
        }
        await Task.WhenAll(_first.DisposeAsync().AsTask(), _second.DisposeAsync().AsTask());
    }
}
