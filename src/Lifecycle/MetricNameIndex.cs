using System.Runtime.InteropServices;

namespace Streaming.Lifecycle;

/// <summary>The metric names of a snapshot, numbered in the order first seen; cleared and reused from one snapshot to the next.</summary>
sealed class MetricNameIndex
{
    readonly Dictionary<string, int> _numbers = new(StringComparer.Ordinal);
    readonly List<string> _inOrder = [];
    // Samples mostly share one interned array of names: a set seen last is not looked up again.
    string[]? _lastSet;

    public int Count => _inOrder.Count;

    public ReadOnlySpan<string> InOrder => CollectionsMarshal.AsSpan(_inOrder);

    public int this[string name] => _numbers[name];

    public void Clear()
    {
        _numbers.Clear();
        _inOrder.Clear();
        _lastSet = null;
    }

    public void AddAll(IReadOnlyDictionary<string, double> metrics)
    {
        if (metrics is MetricValues compact)
        {
            if (compact.SharedNames is { } set && ReferenceEquals(set, _lastSet))
            {
                return;
            }
            foreach (var name in compact.NameSpan)
            {
                Add(name);
            }
            _lastSet = compact.SharedNames;
            return;
        }
        foreach (var name in metrics.Keys)
        {
            Add(name);
        }
    }

    void Add(string name)
    {
        if (_numbers.TryAdd(name, _inOrder.Count))
        {
            _inOrder.Add(name);
        }
    }
}
