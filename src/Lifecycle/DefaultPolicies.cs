namespace Streaming.Lifecycle;

/// <summary>The policies that ship with the system.</summary>
public static class DefaultPolicies
{
    /// <summary><c>cdc-migration@1</c>: shadow → reverse_shadow → cleanup → done.</summary>
    public static LifecyclePolicy CdcMigration { get; } = new(
        "cdc-migration",
        1,
        ["shadow", "reverse_shadow", "cleanup", "done"],
        [
            new PhaseGate("shadow", "reverse_shadow", TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(15), 5,
            [
                new Criterion("checksum_mismatch_rate", Aggregation.Max, Comparison.LessOrEqual, 0.001),
                new Criterion("landing_latency_p95_ms", Aggregation.Max, Comparison.LessOrEqual, 2000),
                new Criterion("error_rate", Aggregation.Max, Comparison.LessOrEqual, 0.01),
            ], DemoteOnBreach: true),
            new PhaseGate("reverse_shadow", "cleanup", TimeSpan.FromMinutes(60), TimeSpan.FromMinutes(30), 5,
            [
                new Criterion("checksum_mismatch_rate", Aggregation.Max, Comparison.LessOrEqual, 0.0005),
                new Criterion("landing_latency_p95_ms", Aggregation.Max, Comparison.LessOrEqual, 1500),
                new Criterion("error_rate", Aggregation.Max, Comparison.LessOrEqual, 0.005),
            ], DemoteOnBreach: true),
            new PhaseGate("cleanup", "done", TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(15), 5,
            [
                new Criterion("error_rate", Aggregation.Max, Comparison.LessOrEqual, 0.005),
            ], DemoteOnBreach: false),
        ],
        DemoteAfterConsecutiveBreaches: 3);
}
