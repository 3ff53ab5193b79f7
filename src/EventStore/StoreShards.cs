using Npgsql;

namespace Streaming.EventStore;

/// <summary>
/// The PostgreSQL clusters the store is sharded over, one data source each (shard 0 first), and which of them holds each
/// log partition (<see cref="Map"/>). With one shard there is no map: every partition, whatever the log's count, is on it.
/// </summary>
public sealed class StoreShards : IAsyncDisposable
{
    readonly NpgsqlDataSource[] _dataSources;

    /// <param name="dataSources">
    /// One per shard of <paramref name="map"/>, in order. Shard 0's is the process's own data source, disposed by whoever
    /// made it; the others are disposed with this.
    /// </param>
    public StoreShards(ShardMap map, IReadOnlyList<NpgsqlDataSource> dataSources)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(dataSources);
        if (dataSources.Count != map.Shards)
        {
            throw new ArgumentException($"{dataSources.Count} data sources for {map.Shards} shards", nameof(dataSources));
        }
        Map = map.Shards > 1 ? map : null;
        _dataSources = [.. dataSources];
    }

    StoreShards(NpgsqlDataSource dataSource) => _dataSources = [dataSource];

    /// <summary>One shard: the single store of before.</summary>
    public static StoreShards Single(NpgsqlDataSource dataSource) => new(dataSource ?? throw new ArgumentNullException(nameof(dataSource)));

    /// <summary>Null with one shard.</summary>
    public ShardMap? Map { get; }

    public int Count => _dataSources.Length;

    public NpgsqlDataSource DataSource(int shard) => _dataSources[shard];

    /// <summary>The shard holding log partition <paramref name="partition"/>.</summary>
    public int ShardOf(int partition) => Map?.ShardOf(partition) ?? 0;

    public async ValueTask DisposeAsync()
    {
        foreach (var dataSource in _dataSources.Skip(1))
        {
            await dataSource.DisposeAsync();
        }
    }
}
