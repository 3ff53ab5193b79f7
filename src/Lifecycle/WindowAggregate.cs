namespace Streaming.Lifecycle;

/// <summary>Computes a criterion over the samples of a window, without allocating for windows of ordinary size.</summary>
static class WindowAggregate
{
    const int MaxStackValues = 256;

    /// <summary>The criterion's value over the samples emitted after <paramref name="since"/>, and how many had the metric.</summary>
    public static (double? Value, int Samples) Compute(ReadOnlySpan<WindowSample> window, DateTimeOffset since, Criterion criterion) =>
        criterion.Aggregation switch
        {
            Aggregation.P50 => Percentile(window, since, criterion.Metric, 50),
            Aggregation.P95 => Percentile(window, since, criterion.Metric, 95),
            Aggregation.P99 => Percentile(window, since, criterion.Metric, 99),
            _ => Fold(window, since, criterion.Metric, criterion.Aggregation),
        };

    static (double? Value, int Samples) Fold(ReadOnlySpan<WindowSample> window, DateTimeOffset since, string metric, Aggregation aggregation)
    {
        var count = 0;
        double sum = 0, min = double.PositiveInfinity, max = double.NegativeInfinity, last = 0;
        for (var i = SampleWindow.FirstAfter(window, since); i < window.Length; i++)
        {
            if (!window[i].Metrics.TryGetValue(metric, out var value))
            {
                continue;
            }
            count++;
            sum += value;
            min = Math.Min(min, value);
            max = Math.Max(max, value);
            last = value;
        }
        if (count == 0)
        {
            return (aggregation is Aggregation.Count or Aggregation.Sum ? 0 : null, 0);
        }
        double result = aggregation switch
        {
            Aggregation.Max => max,
            Aggregation.Min => min,
            Aggregation.Avg => sum / count,
            Aggregation.Last => last,
            Aggregation.Sum => sum,
            Aggregation.Count => count,
            _ => throw new InvalidOperationException($"unknown aggregation {aggregation}"),
        };
        return (result, count);
    }

    // Nearest rank: the smallest value with at least percent% of the values at or below it.
    static (double? Value, int Samples) Percentile(ReadOnlySpan<WindowSample> window, DateTimeOffset since, string metric, int percent)
    {
        var first = SampleWindow.FirstAfter(window, since);
        var count = 0;
        for (var i = first; i < window.Length; i++)
        {
            if (window[i].Metrics.ContainsKey(metric))
            {
                count++;
            }
        }
        if (count == 0)
        {
            return (null, 0);
        }
        var values = count <= MaxStackValues ? stackalloc double[count] : new double[count];
        var filled = 0;
        for (var i = first; i < window.Length; i++)
        {
            if (window[i].Metrics.TryGetValue(metric, out var value))
            {
                values[filled++] = value;
            }
        }
        values.Sort();
        var rank = (percent * count + 99) / 100;
        return (values[Math.Clamp(rank, 1, count) - 1], count);
    }
}
