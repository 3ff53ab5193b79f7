using Streaming.Lifecycle;
using Xunit;

namespace Streaming.Tests.Lifecycle;

public sealed class DemotionTests
{
    static readonly IReadOnlyDictionary<string, double> Erroring = JobMetrics.Healthy.With(JobMetrics.ErrorRate, 0.05);

    [Fact]
    public void Demotes_after_three_consecutive_breaches()
    {
        // Given a job that acknowledged reverse_shadow at minute 0 and ran healthily for ten minutes
        var job = new LifecycleSimulation("reverse_shadow");
        job.Minutes(0, 9, JobMetrics.Healthy);

        // When three signals in a row (minutes 10, 11, 12: versions 11…13) break the shadow→reverse_shadow criteria
        var decisions = job.Minutes(10, 12, Erroring);

        // Then it is demoted to shadow on the third
        var decision = Assert.Single(decisions);
        Assert.Equal(("reverse_shadow", "shadow", PhaseDecision.Demote), (decision.From, decision.To, decision.Direction));
        Assert.Equal(LifecycleSimulation.At(12), decision.DecidedAt);
        Assert.Equal((11L, 13L, 13L), (decision.FirstVersion, decision.LastVersion, decision.DecidingVersion));
        Assert.Equal(
            "demote reverse_shadow→shadow: 3 consecutive evaluations failed the shadow→reverse_shadow demote criteria; last: last error_rate 0.05 > 0.02 (5 samples in 5m)",
            decision.Reason);
        var error = Assert.Single(decision.Criteria, c => !c.Passed);
        Assert.Equal((JobMetrics.ErrorRate, 0.05, 0.02, Verdict.Fail), (error.Metric, error.Value, error.Threshold, error.Verdict));
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, true)]
    public void Demotes_after_exactly_three_consecutive_breaches_and_not_before(int breaches, bool demoted)
    {
        // Given a healthy job in reverse_shadow
        var job = new LifecycleSimulation("reverse_shadow");
        job.Minutes(0, 9, JobMetrics.Healthy);

        // When it breaches that many times in a row, then recovers for an hour
        job.Minutes(10, 9 + breaches, Erroring);
        job.Minutes(10 + breaches, 10 + breaches + 40, JobMetrics.Healthy);

        // Then
        Assert.Equal(demoted, job.Decisions.Any(d => d.Direction == PhaseDecision.Demote));
        Assert.Equal(0, job.State.DemotionStreak);
    }

    [Fact]
    public void A_good_signal_resets_the_breach_counter()
    {
        // Given a job in reverse_shadow
        var job = new LifecycleSimulation("reverse_shadow");
        job.Minutes(0, 9, JobMetrics.Healthy);

        // When it breaches twice, passes once, breaches twice more
        job.Minutes(10, 11, Erroring);
        Assert.Equal(2, job.State.DemotionStreak);
        job.Signal(12, JobMetrics.Healthy);
        Assert.Equal(0, job.State.DemotionStreak);
        job.Minutes(13, 14, Erroring);

        // Then it is still in reverse_shadow
        Assert.Empty(job.Decisions);
        Assert.Equal(2, job.Report.DemotionStreak);

        // When the third breach in a row comes (minutes 13, 14, 15: versions 14…16)
        var decision = job.Signal(15, Erroring);

        // Then it is demoted, and the decision names the breaches since the reset
        Assert.NotNull(decision);
        Assert.Equal((14L, 16L), (decision.FirstVersion, decision.LastVersion));
    }

    [Theory]
    [InlineData("reverse_shadow", JobMetrics.ErrorRate, 0.007, null)]
    [InlineData("reverse_shadow", JobMetrics.ErrorRate, 0.02, null)]
    [InlineData("reverse_shadow", JobMetrics.ErrorRate, 0.03, "shadow")]
    [InlineData("reverse_shadow", JobMetrics.LandingLatencyP95Ms, 2100, null)]
    [InlineData("reverse_shadow", JobMetrics.LandingLatencyP95Ms, 3100, "shadow")]
    [InlineData("reverse_shadow", JobMetrics.ChecksumMismatchRate, 0.0015, null)]
    [InlineData("reverse_shadow", JobMetrics.ChecksumMismatchRate, 0.0025, "shadow")]
    [InlineData("cleanup", JobMetrics.ErrorRate, 0.007, null)]
    [InlineData("cleanup", JobMetrics.ErrorRate, 0.011, "reverse_shadow")]
    [InlineData("cleanup", JobMetrics.LandingLatencyP95Ms, 2000, null)]
    [InlineData("cleanup", JobMetrics.LandingLatencyP95Ms, 2300, "reverse_shadow")]
    [InlineData("cleanup", JobMetrics.ChecksumMismatchRate, 0.0008, null)]
    [InlineData("cleanup", JobMetrics.ChecksumMismatchRate, 0.0011, "reverse_shadow")]
    [InlineData("shadow", JobMetrics.ErrorRate, 0.9, null)]
    [InlineData("done", JobMetrics.ErrorRate, 0.9, null)]
    public void A_phase_is_judged_by_the_criteria_that_admitted_the_job_to_it(string phase, string metric, double value, string? demotedTo)
    {
        // Given a job that acknowledged its phase
        var job = new LifecycleSimulation(phase);
        job.Minutes(0, 4, JobMetrics.Healthy);

        // When it reports the value three times in a row
        job.Minutes(5, 7, JobMetrics.Healthy.With(metric, value));

        // Then it is demoted one phase only if the value breaks the demote threshold of the gate into its phase: a value
        // between the promote and the demote threshold (hysteresis) keeps it where it is
        Assert.Equal(demotedTo, job.Decisions.SingleOrDefault()?.To);
    }

    [Fact]
    public void A_signal_missing_a_metric_is_not_a_breach()
    {
        // Given a job in cleanup
        var job = new LifecycleSimulation("cleanup");

        // When its signals stop carrying the error rate
        job.Minutes(0, 20, JobMetrics.Healthy.Without(JobMetrics.ErrorRate));

        // Then nothing breaks (and, lacking data, nothing promotes either)
        Assert.Equal(0, job.State.DemotionStreak);
        Assert.Empty(job.Decisions);
    }

    [Fact]
    public void Signals_reporting_another_phase_neither_count_nor_reset_breaches()
    {
        // Given a job in reverse_shadow that breached twice
        var job = new LifecycleSimulation("reverse_shadow");
        job.Minutes(0, 9, JobMetrics.Healthy);
        job.Minutes(10, 11, Erroring);

        // When it reports shadow (on its own), badly and then well
        job.Signal(12, "shadow", Erroring);
        job.Signal(13, "shadow", JobMetrics.Healthy);

        // Then the counter did not move and the job is flagged
        Assert.Empty(job.Decisions);
        Assert.Equal(2, job.State.DemotionStreak);
        Assert.Contains(LifecycleFlags.PhaseMismatch, job.State.Flags());

        // When its next reverse_shadow signal breaches
        var decision = job.Signal(14, "reverse_shadow", Erroring);

        // Then that is the third consecutive breach
        Assert.Equal("shadow", decision?.To);
    }

    [Fact]
    public void After_a_demotion_time_in_phase_restarts_from_the_next_acknowledgement()
    {
        // Given a job demoted from reverse_shadow at minute 12
        var job = new LifecycleSimulation("reverse_shadow");
        job.Minutes(0, 9, JobMetrics.Healthy);
        job.Minutes(10, 12, Erroring);

        // Then it awaits acknowledgement of shadow with an empty window
        Assert.Equal("shadow", job.State.AssignedPhase);
        Assert.Equal(LifecycleSimulation.At(12), job.State.AssignedAt);
        Assert.Null(job.State.PhaseSince);
        Assert.True(job.State.AwaitingAcknowledgement);
        Assert.Empty(job.State.Window);
        Assert.Equal(0, job.State.DemotionStreak);

        // When it follows (acknowledging shadow at 13) and is healthy again for an hour
        job.Minutes(13, 73, JobMetrics.Healthy);

        // Then it is promoted back after a full shadow soak from its acknowledgement
        Assert.Equal(
            [("reverse_shadow", "shadow", 12.0), ("shadow", "reverse_shadow", 43.0)],
            job.Decisions.Select(d => (d.From, d.To, (d.DecidedAt - LifecycleSimulation.Start).TotalMinutes)));
        Assert.Equal(2, job.State.PhaseChanges);
    }

    [Fact]
    public void A_job_that_keeps_failing_bounces_between_phases_without_ever_reaching_done()
    {
        // Given a job whose error rate passes the shadow gate but not a single signal's reverse_shadow admission
        var job = new LifecycleSimulation("shadow");

        // When it signals for ten hours with the error rate just above the shadow→reverse_shadow threshold half the time
        for (var minute = 0; minute <= 600; minute++)
        {
            job.Signal(minute, minute % 60 < 40 ? JobMetrics.Healthy : Erroring);
        }

        // Then it was promoted and demoted, alternately, never reaching cleanup
        Assert.NotEmpty(job.Decisions);
        Assert.DoesNotContain(job.Decisions, d => d.To is "cleanup" or "done");
        for (var i = 0; i < job.Decisions.Count; i++)
        {
            Assert.Equal(i % 2 == 0 ? PhaseDecision.Promote : PhaseDecision.Demote, job.Decisions[i].Direction);
        }
    }
}
