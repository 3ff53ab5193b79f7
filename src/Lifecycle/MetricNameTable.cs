namespace Streaming.Lifecycle;

/// <summary>
/// The metric names of one <see cref="JobLifecycleSnapshot"/>, numbered in the order first seen, and the writer of metric
/// sets against those numbers. A job's samples share one interned name set (<see cref="MetricValues"/>), so each set is
/// numbered once and its samples are written without looking a name up.
/// </summary>
sealed class MetricNameTable
{
    readonly Dictionary<string, int> _numbers = new(StringComparer.Ordinal);
    readonly List<string> _names = [];
    readonly Dictionary<string[], int[]> _sets = new(ReferenceEqualityComparer.Instance);

    public int Count => _names.Count;

    /// <summary>The names in the order they were numbered.</summary>
    public IReadOnlyList<string> Names => _names;

    public void Add(IReadOnlyDictionary<string, double> metrics)
    {
        if (metrics is MetricValues values)
        {
            NumbersOf(values.NameSet);
            return;
        }
        foreach (var name in metrics.Keys)
        {
            Number(name);
        }
    }

    /// <summary>Writes the set as its count, then each metric's name number and value; every name must have been added.</summary>
    public void Write(BinaryWriter writer, IReadOnlyDictionary<string, double> metrics)
    {
        writer.Write7BitEncodedInt(metrics.Count);
        if (metrics is MetricValues values)
        {
            var numbers = NumbersOf(values.NameSet);
            var metricValues = values.ValueSpan;
            for (var i = 0; i < numbers.Length; i++)
            {
                writer.Write7BitEncodedInt(numbers[i]);
                writer.Write(metricValues[i]);
            }
            return;
        }
        foreach (var (name, value) in metrics)
        {
            writer.Write7BitEncodedInt(_numbers[name]);
            writer.Write(value);
        }
    }

    int[] NumbersOf(string[] nameSet)
    {
        if (!_sets.TryGetValue(nameSet, out var numbers))
        {
            numbers = new int[nameSet.Length];
            for (var i = 0; i < nameSet.Length; i++)
            {
                numbers[i] = Number(nameSet[i]);
            }
            _sets.Add(nameSet, numbers);
        }
        return numbers;
    }

    int Number(string name)
    {
        if (!_numbers.TryGetValue(name, out var number))
        {
            number = _names.Count;
            _numbers.Add(name, number);
            _names.Add(name);
        }
        return number;
    }
}
