namespace Streaming.Bench.Surface;

/// <summary>
/// The operator surface under load: latency of the jobs page, a job's detail and the fleet summary (each computed
/// afresh), and the time from a decision's commit to its appearance in an open fleet page's feed.
/// </summary>
public sealed record SurfaceResult(
    int Jobs,
    Latency JobsPage,
    Latency JobDetail,
    Latency FleetSummary,
    Latency DecisionToFleetPage,
    long SignalsDuringMeasurement,
    double Seconds);

/// <summary>A latency distribution in milliseconds.</summary>
public sealed record Latency(int Samples, double P50, double P95, double Max)
{
    public static Latency Of(IReadOnlyCollection<double> milliseconds)
    {
        if (milliseconds.Count == 0)
        {
            return new Latency(0, 0, 0, 0);
        }
        var sorted = milliseconds.Order().ToArray();
        double At(double share) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(share * sorted.Length) - 1)];
        return new Latency(sorted.Length, At(0.5), At(0.95), sorted[^1]);
    }
}
