using Streaming.Lifecycle;
using Xunit;

namespace Streaming.Tests.Lifecycle;

public sealed class LifecyclePolicyTests
{
    static readonly LifecyclePolicy Policy = DefaultPolicies.CdcMigration;

    [Fact]
    public void The_default_policy_is_cdc_migration_version_one()
    {
        Assert.Equal("cdc-migration@1", Policy.Id);
        Assert.Equal(["shadow", "reverse_shadow", "cleanup", "done"], Policy.Phases);
        Assert.Equal("shadow", Policy.FirstPhase);
        Assert.Equal(TimeSpan.FromMinutes(30), Policy.LongestWindow);
        Assert.Equal(3, Policy.DemoteAfterConsecutiveBreaches);
    }

    [Theory]
    [InlineData("shadow", "reverse_shadow", null)]
    [InlineData("reverse_shadow", "cleanup", "shadow")]
    [InlineData("cleanup", "done", "reverse_shadow")]
    [InlineData("done", null, "cleanup")]
    [InlineData("canary", null, null)]
    public void Phases_know_their_neighbours(string phase, string? next, string? previous)
    {
        Assert.Equal(next, Policy.NextPhase(phase));
        Assert.Equal(previous, Policy.PreviousPhase(phase));
        Assert.Equal(next, Policy.GateFrom(phase)?.To);
        Assert.Equal(previous, Policy.AdmissionGate(phase)?.From);
    }

    [Theory]
    [InlineData("shadow", 30, 15, true)]
    [InlineData("reverse_shadow", 60, 30, true)]
    [InlineData("cleanup", 30, 15, false)]
    public void Each_gate_has_its_soak_window_and_demotion_rule(string from, int soakMinutes, int windowMinutes, bool demoteOnBreach)
    {
        var gate = Policy.GateFrom(from)!;

        Assert.Equal(TimeSpan.FromMinutes(soakMinutes), gate.MinTimeInPhase);
        Assert.Equal(TimeSpan.FromMinutes(windowMinutes), gate.Window);
        Assert.Equal(5, gate.MinSamples);
        Assert.Equal(demoteOnBreach, gate.DemoteOnBreach);
        Assert.All(gate.Criteria, c => Assert.Equal((Aggregation.Max, Comparison.LessOrEqual), (c.Aggregation, c.Comparison)));
    }

    [Theory]
    [InlineData("shadow", "checksum_mismatch_rate", 0.001)]
    [InlineData("shadow", "landing_latency_p95_ms", 2000)]
    [InlineData("shadow", "error_rate", 0.01)]
    [InlineData("reverse_shadow", "checksum_mismatch_rate", 0.0005)]
    [InlineData("reverse_shadow", "landing_latency_p95_ms", 1500)]
    [InlineData("reverse_shadow", "error_rate", 0.005)]
    [InlineData("cleanup", "error_rate", 0.005)]
    public void Each_gate_has_its_thresholds(string from, string metric, double threshold)
    {
        Assert.Equal(threshold, Assert.Single(Policy.GateFrom(from)!.Criteria, c => c.Metric == metric).Threshold);
    }
}
