using Streaming.EventStore;

namespace Streaming.Projections.Tail;

/// <summary>
/// Consecutive events of the log in commit order: every event after <see cref="Follows"/> up to <see cref="End"/>, each
/// decoded once and shared, read-only, by every fold it is handed to. An empty batch says the log has nothing newer yet.
/// </summary>
public sealed class LogBatch(TailPosition follows, LogEvent[] events, int count, TailPosition end)
{
    /// <summary>The position the batch continues from: its events are the next ones after it.</summary>
    public TailPosition Follows => follows;

    public TailPosition End => end;

    public int Count => count;

    public bool IsEmpty => count == 0;

    /// <summary>Whether some of the events came from the history archive (signals without correlation ids, other events without metadata).</summary>
    public bool FromArchive { get; init; }

    public ArraySegment<LogEvent> Events => new(events, 0, count);

    public static LogBatch Empty(TailPosition at) => new(at, [], 0, at);

    /// <summary>The events after <paramref name="position"/>: all of them for a fold that has folded up to <see cref="Follows"/>.</summary>
    public ArraySegment<LogEvent> After(TailPosition position)
    {
        if (position.CompareTo(follows) <= 0)
        {
            return Events;
        }
        if (position.CompareTo(end) >= 0)
        {
            return ArraySegment<LogEvent>.Empty;
        }
        var first = 0;
        while (first < count && events[first].Position.CompareTo(position) <= 0)
        {
            first++;
        }
        return new ArraySegment<LogEvent>(events, first, count - first);
    }
}
