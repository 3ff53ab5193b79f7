namespace Streaming.Bench.Delivery;

/// <summary>p50, p99 and max of a set of latencies, in milliseconds.</summary>
public sealed record Percentiles(int Count, double P50, double P99, double Max)
{
    public static Percentiles Of(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Select(v => v.TotalMilliseconds).Order().ToArray();
        return sorted.Length == 0
            ? new Percentiles(0, double.NaN, double.NaN, double.NaN)
            : new Percentiles(sorted.Length, At(sorted, 0.50), At(sorted, 0.99), sorted[^1]);
    }

    // Nearest rank: the smallest value at or above the share of the set.
    static double At(double[] sorted, double share) => sorted[Math.Clamp((int)Math.Ceiling(share * sorted.Length) - 1, 0, sorted.Length - 1)];
}
