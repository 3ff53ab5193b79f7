using Npgsql;
using Streaming.Cli;
using Streaming.Contracts.History;
using Streaming.EventStore;

namespace Streaming.Tests.Infrastructure;

/// <summary>
/// Three PostgreSQL servers of the test's own, a log of <see cref="Partitions"/> partitions: shards 0 and 1 migrated,
/// the store sharded over them; shard 2 started but empty, a cluster to grow onto.
/// </summary>
public sealed class ThreeShardStore : IAsyncDisposable
{
    public const int Partitions = 12;

    readonly PrivatePostgres[] _servers = [new(), new(), new()];
    readonly List<NpgsqlDataSource> _dataSources = [];

    public static LogPartitioner Partitioner { get; } = new(Partitions, ControlStreamPrefixes.All);

    public PrivatePostgres Server(int shard) => _servers[shard];

    public NpgsqlDataSource Shard(int shard) => _dataSources[shard];

    public static async Task<ThreeShardStore> StartAsync()
    {
        var store = new ThreeShardStore();
        await Task.WhenAll(store._servers.Select(server => server.StartAsync()));
        store._dataSources.AddRange(store._servers.Select(server => NpgsqlDataSource.Create(server.ConnectionString)));
        foreach (var shard in store._dataSources.Take(2))
        {
            await EventStoreSchema.MigrateAsync(shard, StoreSchema.ServiceMigrations, Partitioner, CancellationToken.None);
        }
        return store;
    }

    /// <summary>Closes the test's idle sessions, which a reshard would count as a service's.</summary>
    public void CloseSessions()
    {
        foreach (var dataSource in _dataSources)
        {
            dataSource.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var dataSource in _dataSources)
        {
            await dataSource.DisposeAsync();
        }
        await Task.WhenAll(_servers.Select(server => server.DisposeAsync().AsTask()));
    }
}
