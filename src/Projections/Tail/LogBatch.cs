using Streaming.EventStore;

namespace Streaming.Projections.Tail;

/// <summary>
/// Consecutive events of the log partitions a process follows: in each partition, every event after its position in
/// <see cref="Follows"/> up to its position in <see cref="End"/>, in that partition's commit order; the partitions one
/// after another in partition order (so the control partition's events come first). Each event carries its partition
/// and is decoded once and shared, read-only, by every fold it is handed to. An empty batch says the log has nothing
/// newer yet.
/// </summary>
public sealed class LogBatch(LogPositions follows, LogEvent[] events, int count, LogPositions end)
{
    /// <summary>The positions the batch continues from: its events are the next ones after them, per partition.</summary>
    public LogPositions Follows => follows;

    /// <summary>Where the batch ends in each partition (where it <see cref="Follows"/> for a partition it holds nothing of).</summary>
    public LogPositions End => end;

    public int Count => count;

    public bool IsEmpty => count == 0;

    /// <summary>Whether some of the events came from the history archive (signals without correlation ids, other events without metadata).</summary>
    public bool FromArchive { get; init; }

    /// <summary>Whether some partition had more committed events than the read took: the reader is not caught up.</summary>
    public bool Truncated { get; init; }

    public ArraySegment<LogEvent> Events => new(events, 0, count);

    public static LogBatch Empty(LogPositions at) => new(at, [], 0, at);

    /// <summary>
    /// The events after <paramref name="positions"/>, per partition: all of them for a fold that has folded up to
    /// <see cref="Follows"/>.
    /// </summary>
    public ArraySegment<LogEvent> After(LogPositions positions)
    {
        if (follows.Covers(positions))
        {
            return Events;
        }
        if (positions.Covers(end))
        {
            return ArraySegment<LogEvent>.Empty;
        }
        // Each partition's events are consecutive and in its commit order: what was folded is a prefix of each.
        var first = 0;
        while (first < count && positions.Covers(events[first].Event.Partition, events[first].Position))
        {
            first++;
        }
        var rest = first;
        while (rest < count && !positions.Covers(events[rest].Event.Partition, events[rest].Position))
        {
            rest++;
        }
        if (rest == count)
        {
            return new ArraySegment<LogEvent>(events, first, count - first);
        }
        var after = new List<LogEvent>(count - first);
        for (var i = first; i < count; i++)
        {
            if (!positions.Covers(events[i].Event.Partition, events[i].Position))
            {
                after.Add(events[i]);
            }
        }
        return new ArraySegment<LogEvent>([.. after]);
    }
}
