using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;
using Streaming.Projections.History;

namespace Streaming.Projections.Tail;

/// <summary>
/// Reads the log partitions of a set of positions, each in its commit order, from any positions, and decodes each event
/// once: from the history archive's blocks where they reach and the caller accepts them (signals already decoded, one row
/// per 2,000 events of a partition), from the log's gap-free tail after that. A partition the caller follows for its
/// control streams only (<see cref="FollowedPartitions.ControlOnly"/>) is read from the log alone, and only its control
/// streams' events are handed on; the batch's end there is past what was passed over. The archive's blocks are not handed
/// ahead of the control partition's events: while the archive does not serve that partition from where it is read and the
/// log holds events of it past there, the log is read. Not thread-safe: one per reading loop.
/// </summary>
public sealed class LogSource(NpgsqlDataSource dataSource, ILogger logger, int batchSize = LogSource.DefaultBatchSize, FollowedPartitions? followed = null)
{
    public const int DefaultBatchSize = 5_000;

    // Archive blocks read at a time per partition (of 2,000 events each): a batch's array stays under 85,000 bytes with
    // one partition, so it dies young instead of waiting in the large-object heap for a full collection.
    const int BlocksPerRead = 2;

    const int Control = LogPartitioner.ControlPartition;

    readonly EventLog _log = new(dataSource);
    readonly EventDecoder _decoder = new();
    LogEvent[] _read = new LogEvent[batchSize];
    // Per partition: where the archive was found to end (read from the log from there on).
    readonly Dictionary<int, TailPosition> _archiveEndedAt = [];
    // In the control-only partition: a stretch read whole that held no control event (from its start, exclusive, to its
    // end), so a read from anywhere in it goes on from its end instead of passing over the same events again.
    (TailPosition From, TailPosition To)? _passedOver;

    /// <summary>Most events a read takes from each partition.</summary>
    public int BatchSize => batchSize;

    /// <summary>
    /// The next events after <paramref name="after"/>: whole archive blocks of the partitions where <paramref name="archive"/>
    /// allows and the archive reaches past their position (never past <paramref name="archiveUpTo"/>'s), else up to
    /// <see cref="BatchSize"/> events of each partition from the log. Empty when nothing newer is committed yet.
    /// </summary>
    public async Task<LogBatch> ReadAsync(LogPositions after, bool archive, CancellationToken cancellationToken, LogPositions? archiveUpTo = null)
    {
        ArgumentNullException.ThrowIfNull(after);
        if (archive && await ReadArchiveAsync(after, archiveUpTo, cancellationToken) is { } archived)
        {
            return archived;
        }
        if (_read.Length < batchSize * after.Count)
        {
            _read = new LogEvent[batchSize * after.Count];
        }
        var controlOnly = followed?.ControlOnly is { } only && after.Contains(only) ? only : (int?)null;
        while (true)
        {
            var from = controlOnly is { } control ? PassedOver(after, control) : after;
            var count = 0;
            var (partition, inPartition, truncated, passed) = (-1, 0, false, (TailPosition?)null);
            await _log.ReadTailAsync(from, batchSize, (envelope, body) =>
            {
                (inPartition, partition) = envelope.Partition == partition ? (inPartition + 1, partition) : (1, envelope.Partition);
                truncated |= inPartition == batchSize;
                if (envelope.Partition == controlOnly)
                {
                    passed = envelope.Position;
                    if (!followed!.Hands(envelope.Partition, envelope.StreamId))
                    {
                        return;
                    }
                }
                _read[count++] = _decoder.Decode(envelope, body);
            }, cancellationToken);
            if (controlOnly is { } read && passed is { } last && count == 0)
            {
                // Only its owner's events: remember the stretch, and read on past it while there is more.
                _passedOver = _passedOver is { } known && known.To == from[read] ? (known.From, last) : (from[read], last);
                if (truncated)
                {
                    continue;
                }
            }
            if (count == 0)
            {
                return LogBatch.Empty(after);
            }
            // Each batch gets an array of its own size: folds keep it while the next read fills the buffer.
            var events = _read.AsSpan(0, count).ToArray();
            Array.Clear(_read, 0, count);
            var end = EndOf(from, events);
            if (controlOnly is { } passedIn && passed is { } passedTo && end[passedIn].CompareTo(passedTo) < 0)
            {
                end = end.With(passedIn, passedTo);
            }
            return new LogBatch(after, events, count, end) { Truncated = truncated };
        }
    }

    // Where to read the control-only partition from: past a stretch already passed over when the position is inside it.
    LogPositions PassedOver(LogPositions after, int control) =>
        _passedOver is { } stretch && after[control].CompareTo(stretch.From) >= 0 && after[control].CompareTo(stretch.To) < 0
            ? after.With(control, stretch.To)
            : after;

    // Each partition's last event, in partition order after partition order: the batch's end.
    static LogPositions EndOf(LogPositions after, LogEvent[] events)
    {
        if (after.Count == 1)
        {
            return LogPositions.At(after.Partitions.First(), events[^1].Position);
        }
        var ends = new Dictionary<int, TailPosition>(after);
        foreach (var logEvent in events)
        {
            ends[logEvent.Event.Partition] = logEvent.Position;
        }
        return LogPositions.Of(ends);
    }

    // Whether the control partition is read, the archive does not serve it from its position (none of it archived past
    // there, or not past a fold beside that does not take the archive: not in served), and the log
    // holds events of it past there. Its policies and known issues must be folded before the job events that come after
    // them: the archive holds few or none of them (a shard's relayed copy of the control streams never fills a block), so
    // its job partitions' blocks would otherwise be folded first, without the policies (jobs "no-policy", assigned only at
    // a later signal). Partition 0's archive ends within a block of the others', so this reads little more from the log.
    async Task<bool> ControlPartitionAheadAsync(LogPositions after, IEnumerable<int> served, CancellationToken cancellationToken) =>
        after.Count > 1
        && after.Contains(Control)
        && !served.Contains(Control)
        && (await _log.ReadTailAsync(LogPositions.At(Control, after[Control]), 1, cancellationToken)).Count > 0;

    async Task<LogBatch?> ReadArchiveAsync(LogPositions after, LogPositions? upTo, CancellationToken cancellationToken)
    {
        if (followed?.ControlOnly is not null)
        {
            // The archive holds no control streams of a partition followed for them alone: its job partitions' blocks would
            // be folded ahead of the control events (policies, known issues) not read yet, with the states of the control
            // partition's resume position (a store whose owner saved nothing there yet: none). Read the log, in which the
            // control partition's events come first in every batch.
            return null;
        }
        // The partitions the archive may still reach past their position, and does not have to stop at.
        var from = after.Where(p => !(_archiveEndedAt.TryGetValue(p.Key, out var ended) && p.Value.CompareTo(ended) >= 0)
                                    && !(upTo is not null && upTo.Contains(p.Key) && upTo[p.Key].CompareTo(p.Value) <= 0)).ToList();
        if (from.Count == 0 || await ControlPartitionAheadAsync(after, from.Select(p => p.Key), cancellationToken))
        {
            return null;
        }
        var blocks = await HistoryArchive.ReadAsync(dataSource, LogPositions.Of(from), BlocksPerRead, logger, cancellationToken);
        var events = new LogEvent[blocks.Sum(b => b.Events.Count)];
        var count = 0;
        var reached = new HashSet<int>();
        foreach (var block in blocks)
        {
            var limit = upTo is not null && upTo.Contains(block.Partition) ? upTo[block.Partition] : (TailPosition?)null;
            foreach (var logEvent in block.Events)
            {
                if (limit is { } last && logEvent.Position.CompareTo(last) > 0)
                {
                    break;
                }
                events[count++] = logEvent;
                reached.Add(block.Partition);
            }
        }
        foreach (var (partition, position) in from)
        {
            if (!reached.Contains(partition))
            {
                // Past the archive's end (or at a block it cannot read): this partition's log from here on.
                _archiveEndedAt[partition] = position;
            }
        }
        if (count == 0 || (from.Any(p => p.Key == Control) && await ControlPartitionAheadAsync(after, reached, cancellationToken)))
        {
            return null;
        }
        var read = count == events.Length ? events : events[..count];
        return new LogBatch(after, read, count, EndOf(after, read)) { FromArchive = true };
    }
}
