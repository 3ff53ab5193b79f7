using System.Collections.Concurrent;

namespace Streaming.Lifecycle;

/// <summary>
/// One string instance per metric name across all jobs. A fleet reports a few dozen names; the pool stops growing at
/// <see cref="MaxNames"/> so a producer inventing names cannot exhaust memory (later names are simply not shared).
/// </summary>
public static class MetricNames
{
    const int MaxNames = 10_000;
    const int RecentSets = 8;

    static readonly ConcurrentDictionary<string, string> Pool = new(StringComparer.Ordinal);

    // Signals of one fleet mostly carry the same names in the same order, so remembering the last few sets a thread saw
    // lets millions of window samples share a handful of name arrays.
    [ThreadStatic]
    static string[][]? _recentSets;

    [ThreadStatic]
    static int _nextSet;

    /// <summary>An array equal to <paramref name="names"/> (interned names, in the same order) that others may share.</summary>
    public static string[] InternSet(string[] names)
    {
        var recent = _recentSets ??= new string[RecentSets][];
        foreach (var set in recent)
        {
            if (set is not null && set.AsSpan().SequenceEqual(names))
            {
                return set;
            }
        }
        recent[_nextSet] = names;
        _nextSet = (_nextSet + 1) % RecentSets;
        return names;
    }

    public static string Intern(string name)
    {
        if (Pool.TryGetValue(name, out var interned))
        {
            return interned;
        }
        return Pool.Count < MaxNames ? Pool.GetOrAdd(name, name) : name;
    }
}
