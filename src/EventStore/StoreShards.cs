using Npgsql;
using Streaming.Contracts.History;

namespace Streaming.EventStore;

/// <summary>
/// The PostgreSQL clusters the store is sharded over, one data source each (shard 0 first), and which of them holds each
/// log partition (<see cref="Map"/>). With one shard there is no map: every partition, whatever the log's count, is on it.
/// </summary>
public sealed class StoreShards : IAsyncDisposable
{
    readonly NpgsqlDataSource[] _dataSources;
    readonly EventStreams[] _streams;
    readonly LogPartitioner? _partitioner;
    readonly int _own;

    /// <param name="map">The shards and their partitions.</param>
    /// <param name="dataSources">
    /// One per shard of <paramref name="map"/>, in order. That of <paramref name="own"/> is the process's own data source,
    /// disposed by whoever made it; the others are disposed with this.
    /// </param>
    /// <param name="own">The shard the process serves.</param>
    public StoreShards(ShardMap map, IReadOnlyList<NpgsqlDataSource> dataSources, int own = 0)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(dataSources);
        if (dataSources.Count != map.Shards)
        {
            throw new ArgumentException($"{dataSources.Count} data sources for {map.Shards} shards", nameof(dataSources));
        }
        Map = map.Shards > 1 ? map : null;
        ArgumentOutOfRangeException.ThrowIfNegative(own);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(own, map.Shards);
        _dataSources = [.. dataSources];
        _streams = [.. _dataSources.Select(d => new EventStreams(d))];
        _partitioner = Map is null ? null : new LogPartitioner(map.Partitions, ControlStreamPrefixes.All);
        _own = own;
    }

    StoreShards(NpgsqlDataSource dataSource)
    {
        _dataSources = [dataSource];
        _streams = [new EventStreams(dataSource)];
    }

    /// <summary>One shard: the single store of before.</summary>
    public static StoreShards Single(NpgsqlDataSource dataSource) => new(dataSource ?? throw new ArgumentNullException(nameof(dataSource)));

    /// <summary>Null with one shard.</summary>
    public ShardMap? Map { get; }

    public int Count => _dataSources.Length;

    public NpgsqlDataSource DataSource(int shard) => _dataSources[shard];

    /// <summary>Every shard's data source, shard 0 first.</summary>
    public IReadOnlyList<NpgsqlDataSource> All => _dataSources;

    /// <summary>Shard 0: the home of the control streams (policies, known issues, breakers, pauses), copied from there to the others.</summary>
    public NpgsqlDataSource Control => _dataSources[0];

    public EventStreams StreamsOf(int shard) => _streams[shard];

    /// <summary>The log partition of <paramref name="jobId"/>'s stream; null with one shard, which holds every partition.</summary>
    public int? PartitionOfJob(string jobId) => _partitioner?.PartitionOf(jobId);

    /// <summary>The shard holding <paramref name="jobId"/>'s stream and rows: that of its log partition.</summary>
    public int ShardOfJob(string jobId) => PartitionOfJob(jobId) is { } partition ? ShardOf(partition) : 0;

    public NpgsqlDataSource DataSourceOfJob(string jobId) => _dataSources[ShardOfJob(jobId)];

    public EventStreams StreamsOfJob(string jobId) => _streams[ShardOfJob(jobId)];

    /// <summary>Runs <paramref name="query"/> on every shard at once; the results in shard order.</summary>
    public async Task<T[]> EachAsync<T>(Func<NpgsqlDataSource, CancellationToken, Task<T>> query, CancellationToken cancellationToken) =>
        Count == 1 ? [await query(_dataSources[0], cancellationToken)] : await Task.WhenAll(_dataSources.Select(d => query(d, cancellationToken)));

    /// <summary>The shard holding log partition <paramref name="partition"/>.</summary>
    public int ShardOf(int partition) => Map?.ShardOf(partition) ?? 0;

    public async ValueTask DisposeAsync()
    {
        foreach (var dataSource in _dataSources.Where((_, shard) => shard != _own))
        {
            await dataSource.DisposeAsync();
        }
    }
}
