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

    /// <summary>Whether the event at <paramref name="position"/> in <paramref name="partition"/> is at or before these positions (read already).</summary>
    public bool Covers(int partition, TailPosition position) => _positions.TryGetValue(partition, out var at) && position.CompareTo(at) <= 0;

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
