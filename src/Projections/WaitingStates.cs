using System.Diagnostics;
using Streaming.EventStore;

namespace Streaming.Projections;

/// <summary>
/// The streams of a <see cref="BufferedFold{TState}"/> whose unwritten changes can wait (<see cref="IStreamFold{TState}.CanWait"/>),
/// each with where the fold was before its first unwritten change and when that was folded. Until a stream is written,
/// the fold's checkpoint stays at or before the earliest of those positions, so a restart folds its events again.
/// </summary>
sealed class WaitingStates
{
    readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    // Entries in the order they were added, which is their positions' and times' order; one whose stream was written or
    // stopped waiting since stays here until it reaches the front.
    readonly Queue<(string StreamId, Entry Entry)> _order = new();

    public int Count => _entries.Count;

    /// <summary>Records a change of <paramref name="streamId"/> folded after <paramref name="before"/>, unless an earlier one waits already.</summary>
    public void Add(string streamId, LogPositions before)
    {
        if (_entries.ContainsKey(streamId))
        {
            return;
        }
        var entry = new Entry(before, Stopwatch.GetTimestamp());
        _entries.Add(streamId, entry);
        _order.Enqueue((streamId, entry));
    }

    /// <summary>The stream is to be written with the next write anyway.</summary>
    public void Remove(string streamId)
    {
        if (_entries.Remove(streamId) && _order.Count > 2 * _entries.Count + 1_024)
        {
            Compact();
        }
    }

    /// <summary>Whether the earliest change waiting was folded at least <paramref name="interval"/> ago.</summary>
    public bool AnyDue(TimeSpan interval) => Front() is { } front && Stopwatch.GetElapsedTime(front.FoldedAt) >= interval;

    /// <summary>Where a checkpoint may be saved, given the fold is at <paramref name="folded"/>: before every change still waiting.</summary>
    public LogPositions Savable(LogPositions folded)
    {
        if (Front() is not { } front)
        {
            return folded;
        }
        var savable = folded;
        foreach (var (partition, position) in front.Before)
        {
            if (folded.Contains(partition) && position.CompareTo(folded[partition]) < 0)
            {
                savable = savable.With(partition, position);
            }
        }
        return savable;
    }

    /// <summary>
    /// Takes, earliest first, the streams whose changes waited at least <paramref name="interval"/> (all of them when
    /// null), at most <paramref name="most"/>, adding them to <paramref name="taken"/>.
    /// </summary>
    public void Take(TimeSpan? interval, int most, ICollection<string> taken)
    {
        var count = 0;
        while (count < most && Front() is { } front && (interval is not { } wait || Stopwatch.GetElapsedTime(front.FoldedAt) >= wait))
        {
            var (streamId, _) = _order.Dequeue();
            _entries.Remove(streamId);
            taken.Add(streamId);
            count++;
        }
    }

    /// <summary>The streams <see cref="Take"/> would take first with no interval, at most <paramref name="most"/>, left in place.</summary>
    public IEnumerable<string> Earliest(int most)
    {
        var count = 0;
        foreach (var (streamId, entry) in _order)
        {
            if (count >= most)
            {
                yield break;
            }
            if (_entries.TryGetValue(streamId, out var live) && ReferenceEquals(live, entry))
            {
                count++;
                yield return streamId;
            }
        }
    }

    public void Clear()
    {
        _entries.Clear();
        _order.Clear();
    }

    Entry? Front()
    {
        while (_order.TryPeek(out var front))
        {
            if (_entries.TryGetValue(front.StreamId, out var entry) && ReferenceEquals(entry, front.Entry))
            {
                return entry;
            }
            _order.Dequeue();
        }
        return null;
    }

    void Compact()
    {
        var live = _order.Where(o => _entries.TryGetValue(o.StreamId, out var entry) && ReferenceEquals(entry, o.Entry)).ToList();
        _order.Clear();
        foreach (var item in live)
        {
            _order.Enqueue(item);
        }
    }

    sealed record Entry(LogPositions Before, long FoldedAt);
}
