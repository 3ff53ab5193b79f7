using System.Collections.Immutable;

namespace Streaming.Tests.Lifecycle;

/// <summary>Metric sets for lifecycle tests: a healthy job, and variations of one metric.</summary>
public static class JobMetrics
{
    public const string ChecksumMismatchRate = "checksum_mismatch_rate";
    public const string LandingLatencyP95Ms = "landing_latency_p95_ms";
    public const string ErrorRate = "error_rate";

    /// <summary>Well inside every gate of <c>cdc-migration@1</c>.</summary>
    public static IReadOnlyDictionary<string, double> Healthy { get; } = Of(
        (ChecksumMismatchRate, 0.0002),
        (LandingLatencyP95Ms, 800),
        (ErrorRate, 0.001));

    public static IReadOnlyDictionary<string, double> None { get; } = Of();

    public static IReadOnlyDictionary<string, double> Of(params (string Metric, double Value)[] values) =>
        values.ToImmutableDictionary(v => v.Metric, v => v.Value, StringComparer.Ordinal);

    public static IReadOnlyDictionary<string, double> With(this IReadOnlyDictionary<string, double> metrics, string metric, double value) =>
        metrics.ToImmutableDictionary(StringComparer.Ordinal).SetItem(metric, value);

    public static IReadOnlyDictionary<string, double> Without(this IReadOnlyDictionary<string, double> metrics, string metric) =>
        metrics.ToImmutableDictionary(StringComparer.Ordinal).Remove(metric);
}
