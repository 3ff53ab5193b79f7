using Npgsql;
using Streaming.EventStore;
using Streaming.Projections.Checkpointing;

namespace Streaming.Projections.Sharding;

/// <summary>
/// Copies the control streams' events (policies, known issues, breakers, pauses) from their home, shard 0's control
/// partition, into the control partition of another shard: the same stream ids, versions and event ids, in the home's
/// commit order, each batch in one transaction of the shard that also moves the relay's checkpoint (its position in the
/// home's partition). Relays of one shard take turns on that checkpoint, and the shard keeps one copy of an event id, so
/// two of them at once copy each event once. A control stream the shard holds otherwise than its home (written to the
/// shard directly) stops the relay: its copy would not be the home's.
/// </summary>
public sealed class ControlRelay(NpgsqlDataSource shard, NpgsqlDataSource home, int batchSize = ControlRelay.DefaultBatchSize)
{
    /// <summary>The relay's checkpoint in the shard's <c>es.checkpoints</c>: a position in the home's control partition.</summary>
    public const string CheckpointName = "control-relay";

    public const int DefaultBatchSize = 1_000;

    const int Control = LogPartitioner.ControlPartition;

    // How long a stretch of the home's partition without control events (its job streams) may be passed over unsaved.
    static readonly TimeSpan QuietInterval = FoldCheckpoint.DefaultQuietInterval;

    readonly FoldCheckpoint _checkpoint = new(CheckpointName, synchronous: true);
    readonly EventLog _homeLog = new(home);
    readonly EventStreams _streams = new(shard);
    LogPartitioner? _partitioner;
    // A stretch of the home's partition read whole that held no control event and was not saved: (from, to].
    (TailPosition From, TailPosition To)? _passedOver;

    /// <summary>Copies what the home has and the shard lacks, batch by batch, until caught up; returns how many events it copied.</summary>
    public async Task<int> CatchUpAsync(CancellationToken cancellationToken)
    {
        _partitioner ??= await PartitioningAsync(cancellationToken);
        var copied = 0;
        while (true)
        {
            var (count, more) = await TurnAsync(_partitioner, cancellationToken);
            copied += count;
            if (!more)
            {
                return copied;
            }
        }
    }

    async Task<(int Copied, bool More)> TurnAsync(LogPartitioner partitioner, CancellationToken cancellationToken)
    {
        var (copied, more) = (0, false);
        await _checkpoint.TakeTurnAsync(shard, async (at, transaction, token) =>
        {
            (copied, more) = (0, false);
            var saved = at[Control];
            var from = _passedOver is { } stretch && stretch.From == saved ? stretch.To : saved;
            var read = await _homeLog.ReadTailAsync(LogPositions.At(Control, from), batchSize, token);
            more = read.Count == batchSize;
            if (read.Count == 0)
            {
                return null;
            }
            var end = read[^1].Position;
            var control = read.Where(e => partitioner.IsControl(e.StreamId)).ToList();
            if (control.Count == 0 && _checkpoint.SinceSave < QuietInterval)
            {
                _passedOver = (saved, end);
                return null;
            }
            copied = await CopyAsync(transaction, control, token);
            _passedOver = null;
            return LogPositions.At(Control, end);
        }, cancellationToken);
        return (copied, more);
    }

    async Task<int> CopyAsync(NpgsqlTransaction transaction, IReadOnlyList<RecordedEvent> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return 0;
        }
        var versions = await _streams.AppendEachOnceAsync(
            transaction, [.. events.Select(e => (e.StreamId, new EventToAppend(e.EventId, e.Type, e.Data, e.Metadata ?? "{}", e.EventTime)))], cancellationToken);
        var copied = 0;
        for (var i = 0; i < events.Count; i++)
        {
            if (versions[i] is not { } version)
            {
                continue;
            }
            if (version != events[i].Version)
            {
                throw new InvalidOperationException(
                    $"Control stream {events[i].StreamId}: event {events[i].EventId} is version {events[i].Version} in its home (shard 0) and would be " +
                    $"version {version} here: this shard's copy holds events its home does not (written here directly, not through the home), so the relay stops");
            }
            copied++;
        }
        return copied;
    }

    async Task<LogPartitioner> PartitioningAsync(CancellationToken cancellationToken)
    {
        var own = await EventStoreSchema.ReadPartitioningAsync(shard, cancellationToken);
        var homes = await EventStoreSchema.ReadPartitioningAsync(home, cancellationToken);
        if (own.Partitions != homes.Partitions)
        {
            throw new InvalidOperationException(
                $"This shard's log has {own.Partitions} partitions and shard 0's {homes.Partitions}: every shard of a store has the same count (Store:LogPartitions)");
        }
        return homes;
    }
}
