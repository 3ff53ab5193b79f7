using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Streaming.Lifecycle;

/// <summary>
/// A signal's metrics as two parallel arrays, with interned names: a job keeps dozens of these in its window, for each of
/// up to 100,000 jobs, so they must be small. Lookups are linear, which beats hashing for the handful a signal carries.
/// </summary>
public sealed class MetricValues : IReadOnlyDictionary<string, double>
{
    public static readonly MetricValues Empty = new([], []);

    readonly string[] _names;
    readonly double[] _values;

    MetricValues(string[] names, double[] values)
    {
        _names = names;
        _values = values;
    }

    public static MetricValues From(IReadOnlyDictionary<string, double> metrics)
    {
        if (metrics is MetricValues compact)
        {
            return compact;
        }
        if (metrics.Count == 0)
        {
            return Empty;
        }
        var names = new string[metrics.Count];
        var values = new double[metrics.Count];
        var i = 0;
        foreach (var (name, value) in metrics)
        {
            names[i] = MetricNames.Intern(name);
            values[i++] = value;
        }
        return new MetricValues(MetricNames.InternSet(names), values);
    }

    /// <summary>Takes ownership of the values; the names must be distinct and are shared with equal sets.</summary>
    public static MetricValues Wrap(string[] names, double[] values) =>
        names.Length == 0 ? Empty : new MetricValues(MetricNames.InternSet(names), values);

    public int Count => _names.Length;

    /// <summary>The names, in the order of <see cref="ValueSpan"/>: read without an enumerator.</summary>
    public ReadOnlySpan<string> NameSpan => _names;

    public ReadOnlySpan<double> ValueSpan => _values;

    // The names array, shared by every instance with the same names (see MetricNames.InternSet).
    internal string[] SharedNames => _names;

    public double this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"no metric '{key}'");

    public IEnumerable<string> Keys => _names;

    public IEnumerable<double> Values => _values;

    public bool ContainsKey(string key) => IndexOf(key) >= 0;

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out double value)
    {
        var index = IndexOf(key);
        value = index >= 0 ? _values[index] : 0;
        return index >= 0;
    }

    public IEnumerator<KeyValuePair<string, double>> GetEnumerator()
    {
        for (var i = 0; i < _names.Length; i++)
        {
            yield return new KeyValuePair<string, double>(_names[i], _values[i]);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    int IndexOf(string key)
    {
        for (var i = 0; i < _names.Length; i++)
        {
            // Interned names usually match by reference; the string comparison covers names from elsewhere.
            if (ReferenceEquals(_names[i], key) || string.Equals(_names[i], key, StringComparison.Ordinal))
            {
                return i;
            }
        }
        return -1;
    }
}
