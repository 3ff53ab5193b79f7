namespace Streaming.Lifecycle;

/// <summary>Computes a criterion over the samples of a window.</summary>
static class WindowAggregate
{
    /// <summary>The criterion's value over the samples emitted after <paramref name="since"/>, and how many had the metric.</summary>
    public static (double? Value, int Samples) Compute(IReadOnlyList<WindowSample> window, DateTimeOffset since, Criterion criterion)
    {
        var values = new List<double>(window.Count);
        double? last = null;
        foreach (var sample in window)
        {
            if (sample.EmittedAt > since && sample.Metrics.TryGetValue(criterion.Metric, out var value))
            {
                values.Add(value);
                last = value;
            }
        }
        if (values.Count == 0)
        {
            return (criterion.Aggregation is Aggregation.Count or Aggregation.Sum ? 0 : null, 0);
        }
        double result = criterion.Aggregation switch
        {
            Aggregation.Max => values.Max(),
            Aggregation.Min => values.Min(),
            Aggregation.Avg => values.Average(),
            Aggregation.Last => last!.Value,
            Aggregation.Sum => values.Sum(),
            Aggregation.Count => values.Count,
            Aggregation.P50 => Percentile(values, 0.50),
            Aggregation.P95 => Percentile(values, 0.95),
            Aggregation.P99 => Percentile(values, 0.99),
            _ => throw new InvalidOperationException($"unknown aggregation {criterion.Aggregation}"),
        };
        return (result, values.Count);
    }

    // Nearest rank: the smallest value with at least p of the values at or below it.
    static double Percentile(List<double> values, double p)
    {
        values.Sort();
        var rank = (int)Math.Ceiling(p * values.Count);
        return values[Math.Clamp(rank, 1, values.Count) - 1];
    }
}
