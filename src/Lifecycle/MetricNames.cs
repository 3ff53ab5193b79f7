using System.Collections.Concurrent;

namespace Streaming.Lifecycle;

/// <summary>
/// One string instance per metric name across all jobs. A fleet reports a few dozen names; the pool stops growing at
/// <see cref="MaxNames"/> so a producer inventing names cannot exhaust memory (later names are simply not shared).
/// </summary>
public static class MetricNames
{
    const int MaxNames = 10_000;

    static readonly ConcurrentDictionary<string, string> Pool = new(StringComparer.Ordinal);

    public static string Intern(string name)
    {
        if (Pool.TryGetValue(name, out var interned))
        {
            return interned;
        }
        return Pool.Count < MaxNames ? Pool.GetOrAdd(name, name) : name;
    }
}
