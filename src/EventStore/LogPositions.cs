using System.Collections;
using System.Text;

namespace Streaming.EventStore;

/// <summary>
/// Where a reader of several log partitions is in each: a position per partition, in that partition's commit order.
/// Immutable; equal when the same partitions are at the same positions.
/// </summary>
public sealed class LogPositions : IEquatable<LogPositions>, IEnumerable<KeyValuePair<int, TailPosition>>
{
    readonly SortedDictionary<int, TailPosition> _positions;

    LogPositions(SortedDictionary<int, TailPosition> positions) => _positions = positions;

    /// <summary>The start of every partition of <paramref name="partitions"/>.</summary>
    public static LogPositions Start(IEnumerable<int> partitions) =>
        new(new SortedDictionary<int, TailPosition>(partitions.Distinct().ToDictionary(p => p, _ => TailPosition.Start)));

    /// <summary>The start of partitions 0 to <paramref name="count"/> - 1.</summary>
    public static LogPositions Start(int count) => Start(Enumerable.Range(0, count));

    public static LogPositions Of(IEnumerable<KeyValuePair<int, TailPosition>> positions) => new(new SortedDictionary<int, TailPosition>(positions.ToDictionary()));

    /// <summary>The partitions, in order.</summary>
    public IReadOnlyCollection<int> Partitions => _positions.Keys;

    public int Count => _positions.Count;

    public TailPosition this[int partition] => _positions[partition];

    public bool Contains(int partition) => _positions.ContainsKey(partition);

    /// <summary>These positions with <paramref name="partition"/> at <paramref name="position"/>.</summary>
    public LogPositions With(int partition, TailPosition position) => new(new SortedDictionary<int, TailPosition>(_positions) { [partition] = position });

    /// <summary>The one partition <paramref name="partition"/> at <paramref name="position"/>.</summary>
    public static LogPositions At(int partition, TailPosition position) => new(new SortedDictionary<int, TailPosition> { [partition] = position });

    /// <summary>Whether every partition is at its start.</summary>
    public bool IsStart => _positions.Values.All(p => p == TailPosition.Start);

    /// <summary>The position of <paramref name="partition"/>; its start when these positions do not hold it.</summary>
    public TailPosition Of(int partition) => _positions.TryGetValue(partition, out var at) ? at : TailPosition.Start;

    /// <summary>Whether the event at <paramref name="position"/> in <paramref name="partition"/> is at or before these positions (read already).</summary>
    public bool Covers(int partition, TailPosition position) => _positions.TryGetValue(partition, out var at) && position.CompareTo(at) <= 0;

    /// <summary>
    /// Whether these positions are at or past <paramref name="other"/> in every partition of <paramref name="other"/> (a
    /// partition these do not hold counts as its start): everything up to <paramref name="other"/> was read.
    /// </summary>
    public bool Covers(LogPositions other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (var (partition, position) in other._positions)
        {
            if (Of(partition).CompareTo(position) < 0)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Every partition of either at the earlier of its two positions (the start where one lacks it).</summary>
    public LogPositions Min(LogPositions other) => Merge(other, earlier: true);

    /// <summary>Every partition of either at the later of its two positions.</summary>
    public LogPositions Max(LogPositions other) => Merge(other, earlier: false);

    /// <summary>Every partition of any at its earliest position among them.</summary>
    public static LogPositions Min(IEnumerable<LogPositions> positions) => positions.Aggregate((a, b) => a.Min(b));

    LogPositions Merge(LogPositions other, bool earlier)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (Equals(other))
        {
            return this;
        }
        var merged = new SortedDictionary<int, TailPosition>(_positions);
        foreach (var partition in other._positions.Keys.Union(_positions.Keys))
        {
            var (mine, theirs) = (Of(partition), other.Of(partition));
            merged[partition] = (mine.CompareTo(theirs) <= 0) == earlier ? mine : theirs;
        }
        return new LogPositions(merged);
    }

    public IEnumerator<KeyValuePair<int, TailPosition>> GetEnumerator() => _positions.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public bool Equals(LogPositions? other) => other is not null && other._positions.Count == _positions.Count && _positions.All(p => other._positions.TryGetValue(p.Key, out var at) && at == p.Value);

    public override bool Equals(object? obj) => Equals(obj as LogPositions);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var (partition, position) in _positions)
        {
            hash.Add(partition);
            hash.Add(position);
        }
        return hash.ToHashCode();
    }

    public static bool operator ==(LogPositions? left, LogPositions? right) => left?.Equals(right) ?? right is null;

    public static bool operator !=(LogPositions? left, LogPositions? right) => !(left == right);

    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var (partition, position) in _positions)
        {
            text.Append(text.Length == 0 ? "" : " ").Append(partition).Append(':').Append(position);
        }
        return text.ToString();
    }
}
