using Npgsql;
using Streaming.Contracts.History;
using Streaming.EventStore;

namespace Streaming.Bench.Delivery;

/// <summary>
/// A tail of the store in the bench's own process, woken by the store's notifications as the services' tails are: for
/// each commit it reads, how long after the commit (its <c>committed_at</c>, on the same machine's clock) it first saw it.
/// </summary>
/// <remarks>
/// A commit's <c>committed_at</c> is taken when it records its commit, its last statement. Ingest's commits are
/// asynchronous: they become visible at once. The others (the Promoter's decisions, which are published, and the
/// operators' writes) are synchronous: they become visible only once their WAL is on disk, so their lag also holds
/// that flush. The two are kept apart by the commit's first event (Ingest's are signals).
/// </remarks>
sealed class CommitVisibilityProbe(NpgsqlDataSource store)
{
    readonly List<TimeSpan> _signalLags = [];
    readonly List<TimeSpan> _otherLags = [];

    /// <summary>The lags of every commit.</summary>
    public IEnumerable<TimeSpan> Lags => _signalLags.Concat(_otherLags);

    /// <summary>The lags of Ingest's commits (asynchronous).</summary>
    public IReadOnlyList<TimeSpan> SignalLags => _signalLags;

    /// <summary>The lags of every other commit (synchronous: each holds its WAL flush).</summary>
    public IReadOnlyList<TimeSpan> OtherLags => _otherLags;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var log = new EventLog(store);
        await using var listener = await store.OpenConnectionAsync(cancellationToken);
        await using (var listen = new NpgsqlCommand($"listen {EventStoreSchema.NotificationChannel}", listener))
        {
            await listen.ExecuteNonQueryAsync(cancellationToken);
        }
        var partitioning = await EventStoreSchema.ReadPartitioningAsync(store, cancellationToken);
        var position = await log.ReadTailEndAsync(Enumerable.Range(0, partitioning.Partitions), cancellationToken);
        var (lastPartition, lastCommit) = (0, position.Of(0).Commit);
        var reached = new Dictionary<int, TailPosition>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var batch = await log.ReadTailAsync(position, 5_000, (envelope, _) =>
                {
                    if (envelope.Commit != lastCommit || envelope.Partition != lastPartition)
                    {
                        (lastPartition, lastCommit) = (envelope.Partition, envelope.Commit);
                        (envelope.Type == SignalRecorded.EventType ? _signalLags : _otherLags).Add(DateTimeOffset.UtcNow - envelope.CommittedAt);
                    }
                    reached[envelope.Partition] = envelope.Position;
                }, cancellationToken);
                position = position.Max(LogPositions.Of(reached));
                if (batch == 0)
                {
                    // A notification, or a look anyway after a while, as the services' tails poll behind their wake-ups.
                    await listener.WaitAsync(TimeSpan.FromMilliseconds(500), cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
