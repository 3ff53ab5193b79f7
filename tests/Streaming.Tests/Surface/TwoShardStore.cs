using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Streaming.Cli;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>
/// A store sharded over two PostgreSQL clusters of the test's own (each on its own port and data folder), 4 log
/// partitions, both migrated with every service's migrations as a process of <c>Store:Shards</c> = 2 migrates them, and
/// the <see cref="StoreShards"/> over them.
/// </summary>
public sealed class TwoShardStore : IAsyncLifetime
{
    public const int Partitions = 4;

    readonly PrivatePostgres _first = new();
    readonly PrivatePostgres _second = new();
    NpgsqlDataSource? _shard0;
    NpgsqlDataSource? _shard1;

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
        _shard1 = NpgsqlDataSource.Create(_second.ConnectionString);
        await EventStoreSchema.MigrateAsync(_shard1, StoreSchema.ServiceMigrations, Partitioner, CancellationToken.None);
        Shards = new StoreShards(Map, [_shard0, _shard1]);
    }

    public async Task DisposeAsync()
    {
        if (Shards is not null)
        {
            await Shards.DisposeAsync();
        }
        if (_shard0 is not null)
        {
            await _shard0.DisposeAsync();
        }
        await Task.WhenAll(_first.DisposeAsync().AsTask(), _second.DisposeAsync().AsTask());
    }
}
