using Npgsql;
using Streaming.EventStore;

namespace Streaming.Api.Shards;

/// <summary>
/// The store's shards as the API reads them: one data source per shard (shard 0, the control streams' home, first) and
/// which shard holds a job (<see cref="ShardMap"/> over the store's <see cref="LogPartitioner"/>). One shard is the
/// single store of before: every read goes to it without looking anything up. Disposing it disposes shards 1 and up;
/// shard 0 is the process's own data source.
/// </summary>
public sealed class StoreShards : IAsyncDisposable
{
    readonly EventStreams[] _streams;
    volatile Routing? _routing;

    public StoreShards(IReadOnlyList<NpgsqlDataSource> dataSources)
    {
        ArgumentOutOfRangeException.ThrowIfZero(dataSources.Count);
        All = [.. dataSources];
        _streams = [.. dataSources.Select(d => new EventStreams(d))];
    }

    public static StoreShards Single(NpgsqlDataSource dataSource) => new([dataSource]);

    /// <summary>Every shard's data source, shard 0 first.</summary>
    public IReadOnlyList<NpgsqlDataSource> All { get; }

    public int Count => All.Count;

    /// <summary>Shard 0: the policies', known issues', breakers' and pauses' streams, written there and copied to the others.</summary>
    public NpgsqlDataSource Control => All[0];

    public EventStreams StreamsOf(int shard) => _streams[shard];

    /// <summary>The shard holding <paramref name="jobId"/>'s stream and rows: that of its log partition.</summary>
    public async ValueTask<int> ShardOfAsync(string jobId, CancellationToken cancellationToken)
    {
        if (Count == 1)
        {
            return 0;
        }
        var routing = _routing ??= await RoutingAsync(cancellationToken);
        return routing.Map.ShardOf(routing.Partitioner.PartitionOf(jobId));
    }

    public async ValueTask<NpgsqlDataSource> ForJobAsync(string jobId, CancellationToken cancellationToken) =>
        All[await ShardOfAsync(jobId, cancellationToken)];

    public async ValueTask<EventStreams> StreamsForJobAsync(string jobId, CancellationToken cancellationToken) =>
        _streams[await ShardOfAsync(jobId, cancellationToken)];

    /// <summary>Runs <paramref name="query"/> on every shard at once; the results in shard order.</summary>
    public async Task<T[]> EachAsync<T>(Func<NpgsqlDataSource, CancellationToken, Task<T>> query, CancellationToken cancellationToken) =>
        Count == 1 ? [await query(All[0], cancellationToken)] : await Task.WhenAll(All.Select(d => query(d, cancellationToken)));

    // The partition count is fixed when the store is created, so it is read once.
    async Task<Routing> RoutingAsync(CancellationToken cancellationToken)
    {
        var partitioner = await EventStoreSchema.ReadPartitioningAsync(Control, cancellationToken);
        return new Routing(partitioner, new ShardMap(Count, partitioner.Partitions));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var shard in All.Skip(1))
        {
            await shard.DisposeAsync();
        }
    }

    sealed record Routing(LogPartitioner Partitioner, ShardMap Map);
}
