using Streaming.Lifecycle;
using Xunit;

namespace Streaming.Tests.Lifecycle;

public sealed class LifecyclePolicyTests
{
    static readonly LifecyclePolicy Policy = DefaultPolicies.CdcMigration;

    [Fact]
    public void The_default_policy_is_cdc_migration_for_every_job()
    {
        Assert.Equal("cdc-migration@1", Policy.Id);
        Assert.Equal(["shadow", "reverse_shadow", "cleanup", "done"], Policy.Phases);
        Assert.Equal("shadow", Policy.FirstPhase);
        Assert.Equal(TimeSpan.FromMinutes(30), Policy.LongestWindow);
        Assert.Equal(new QuarantineRule(4, TimeSpan.FromHours(24)), Policy.Quarantine);
        Assert.Equal((TimeSpan.FromMinutes(10), 3), (Policy.AcknowledgeWithin, Policy.StuckAfterSoaks));
        Assert.Empty(Policy.Selector.MatchLabels);
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
    public void Each_gate_has_its_soak_window_and_demotion_rule(string from, int soakMinutes, int windowMinutes, bool demotes)
    {
        var gate = Policy.GateFrom(from)!;

        Assert.Equal(TimeSpan.FromMinutes(soakMinutes), gate.Soak);
        Assert.Equal(TimeSpan.FromMinutes(windowMinutes), gate.Promote.Window);
        Assert.Equal(3, gate.Promote.After);
        Assert.All(gate.Promote.Criteria, c => Assert.Equal((Aggregation.Max, Comparison.LessOrEqual, 5, MissingData.Hold),
            (c.Aggregation, c.Comparison, c.MinSamples, c.Missing)));
        Assert.Equal(demotes, gate.Demote is not null);
        if (gate.Demote is { } demote)
        {
            Assert.Equal((TimeSpan.FromMinutes(5), 3), (demote.Window, demote.After));
            Assert.All(demote.Criteria, c => Assert.Equal((Aggregation.Last, 1), (c.Aggregation, c.MinSamples)));
        }
    }

    [Theory]
    [InlineData("shadow", "checksum_mismatch_rate", 0.001, 0.002)]
    [InlineData("shadow", "landing_latency_p95_ms", 2000, 3000.0)]
    [InlineData("shadow", "error_rate", 0.01, 0.02)]
    [InlineData("reverse_shadow", "checksum_mismatch_rate", 0.0005, 0.001)]
    [InlineData("reverse_shadow", "landing_latency_p95_ms", 1500, 2250.0)]
    [InlineData("reverse_shadow", "error_rate", 0.005, 0.01)]
    [InlineData("cleanup", "error_rate", 0.005, null)]
    public void Each_gate_has_its_promote_and_looser_demote_thresholds(string from, string metric, double promote, double? demote)
    {
        var gate = Policy.GateFrom(from)!;

        Assert.Equal(promote, Assert.Single(gate.Promote.Criteria, c => c.Metric == metric).Threshold);
        Assert.Equal(demote, gate.Demote?.Criteria.Single(c => c.Metric == metric).Threshold);
    }
}
