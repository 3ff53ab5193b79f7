using Streaming.Lifecycle;
using Xunit;

namespace Streaming.Tests.Lifecycle;

public sealed class PromotionTests
{
    [Fact]
    public void Promotes_shadow_job_after_soak_when_all_criteria_hold()
    {
        // Given a healthy job in shadow, signalling once a minute from minute 0 (its acknowledgement)
        var job = new LifecycleSimulation("shadow");

        // When it has signalled for 40 minutes
        job.Minutes(0, 40, JobMetrics.Healthy);

        // Then it was promoted once, at minute 30, on the signals of the trailing 15 minutes (16…30: versions 17…31)
        var decision = Assert.Single(job.Decisions);
        Assert.Equal(("shadow", "reverse_shadow", PhaseDecision.Promote), (decision.From, decision.To, decision.Direction));
        Assert.Equal(LifecycleSimulation.At(30), decision.DecidedAt);
        Assert.Equal(31, decision.DecidingVersion);
        Assert.Equal((17L, 31L), (decision.FirstVersion, decision.LastVersion));
        Assert.Equal("cdc-migration@1", decision.Policy);
        Assert.Equal("job-1", decision.JobId);
        Assert.All(decision.Criteria, c => Assert.True(c.Passed));
        Assert.All(decision.Criteria, c => Assert.Equal(15, c.Samples));
        Assert.Equal(
            "promote shadow→reverse_shadow: 30m in phase ≥ 30m; 27 consecutive passing evaluations ≥ 3; " +
            "max checksum_mismatch_rate 0.0002 ≤ 0.001 (15 samples in 15m); " +
            "max landing_latency_p95_ms 800 ≤ 2000 (15 samples in 15m); " +
            "max error_rate 0.001 ≤ 0.01 (15 samples in 15m)",
            decision.Reason);
    }

    [Theory]
    [InlineData("shadow", 30, "reverse_shadow")]
    [InlineData("reverse_shadow", 60, "cleanup")]
    [InlineData("cleanup", 30, "done")]
    public void Promotes_at_exactly_the_soak_boundary_and_not_before(string phase, int soakMinutes, string next)
    {
        // Given a healthy job acknowledging its phase at minute 0
        var job = new LifecycleSimulation(phase);

        // When it signals until one minute before the soak is over
        var early = job.Minutes(0, soakMinutes - 1, JobMetrics.Healthy);

        // Then nothing happens yet, although every criterion holds
        Assert.Empty(early);
        Assert.False(job.Report.SoakMet);
        Assert.True(job.Report.AllPassed);
        Assert.Equal(TimeSpan.FromMinutes(soakMinutes - 1), job.Report.TimeInPhase);

        // When the signal that completes the soak arrives
        var decision = job.Signal(soakMinutes, JobMetrics.Healthy);

        // Then it is promoted on that signal
        Assert.NotNull(decision);
        Assert.Equal((phase, next), (decision.From, decision.To));
        Assert.Equal(LifecycleSimulation.At(soakMinutes), decision.DecidedAt);
    }

    [Theory]
    [InlineData(3, true)]
    [InlineData(4, false)]
    [InlineData(5, false)]
    [InlineData(15, false)]
    public void Too_few_signals_in_the_window_block_promotion(int everyMinutes, bool promoted)
    {
        // Given a healthy shadow job signalling every few minutes for three hours (15-minute window, 5 signals needed)
        var job = new LifecycleSimulation("shadow");

        // When
        for (var minute = 0; minute <= 180 && job.Decisions.Count == 0; minute += everyMinutes)
        {
            job.Signal(minute, JobMetrics.Healthy);
        }

        // Then only a job with at least 5 signals in 15 minutes is promoted
        Assert.Equal(promoted, job.Decisions.Count == 1);
        if (!promoted)
        {
            Assert.True(job.Report.SoakMet);
            Assert.False(job.Report.AllPassed);
            Assert.True(job.Report.Samples < 5);
            Assert.All(job.Report.Criteria, c => Assert.False(c.Passed));
        }
    }

    [Theory]
    [InlineData(JobMetrics.ChecksumMismatchRate, 0.0011)]
    [InlineData(JobMetrics.LandingLatencyP95Ms, 2001)]
    [InlineData(JobMetrics.ErrorRate, 0.0101)]
    public void One_bad_value_in_the_window_blocks_promotion_until_it_leaves_the_window(string metric, double bad)
    {
        // Given a healthy shadow job with one bad signal at minute 25
        var job = new LifecycleSimulation("shadow");
        job.Minutes(0, 24, JobMetrics.Healthy);
        job.Signal(25, JobMetrics.Healthy.With(metric, bad));

        // When it signals healthily until minute 39
        job.Minutes(26, 39, JobMetrics.Healthy);

        // Then the bad value still blocks promotion and the report says which criterion fails
        Assert.Empty(job.Decisions);
        var failing = Assert.Single(job.Report.Criteria, c => !c.Passed);
        Assert.Equal((metric, bad), (failing.Metric, failing.Value));

        // When the signal at minute 40 moves the window (25, 40] past it, two more evaluations are not enough
        Assert.Null(job.Signal(40, JobMetrics.Healthy));
        Assert.Null(job.Signal(41, JobMetrics.Healthy));

        // Then the third passing evaluation in a row promotes it
        var decision = job.Signal(42, JobMetrics.Healthy);
        Assert.NotNull(decision);
        Assert.Equal("reverse_shadow", decision.To);
    }

    [Theory]
    [InlineData(JobMetrics.ChecksumMismatchRate, 0.001)]
    [InlineData(JobMetrics.LandingLatencyP95Ms, 2000)]
    [InlineData(JobMetrics.ErrorRate, 0.01)]
    public void A_value_equal_to_the_threshold_passes(string metric, double threshold)
    {
        // Given a shadow job whose metric sits exactly on its threshold
        var job = new LifecycleSimulation("shadow");

        // When
        job.Minutes(0, 30, JobMetrics.Healthy.With(metric, threshold));

        // Then
        Assert.Equal(LifecycleSimulation.At(30), Assert.Single(job.Decisions).DecidedAt);
    }

    [Fact]
    public void A_job_with_bad_metrics_is_never_promoted_over_hours()
    {
        // Given a shadow job whose landing latency is always too high
        var job = new LifecycleSimulation("shadow");

        // When it signals once a minute for eight hours
        job.Minutes(0, 8 * 60, JobMetrics.Healthy.With(JobMetrics.LandingLatencyP95Ms, 2500));

        // Then it is never promoted (and shadow has nothing to demote it to)
        Assert.Empty(job.Decisions);
        Assert.Equal("shadow", job.State.AssignedPhase);
        var report = job.Report;
        Assert.Equal(TimeSpan.FromHours(8), report.TimeInPhase);
        Assert.True(report.SoakMet);
        Assert.False(report.AllPassed);
        Assert.Equal(15, report.Samples);
        var latency = Assert.Single(report.Criteria, c => !c.Passed);
        Assert.Equal((JobMetrics.LandingLatencyP95Ms, 2500.0, 15), (latency.Metric, latency.Value, latency.Samples));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(JobMetrics.ChecksumMismatchRate)]
    [InlineData(JobMetrics.ErrorRate)]
    public void A_job_that_does_not_report_a_metric_is_never_promoted(string? missing)
    {
        // Given a shadow job that leaves out one metric (or all of them)
        var metrics = missing is null ? JobMetrics.None : JobMetrics.Healthy.Without(missing);
        var job = new LifecycleSimulation("shadow");

        // When it signals for four hours
        job.Minutes(0, 4 * 60, metrics);

        // Then it is never promoted on no data
        Assert.Empty(job.Decisions);
        Assert.Contains(job.Report.Criteria, c => c.Samples == 0 && c.Value is null && !c.Passed);
    }

    [Fact]
    public void A_healthy_job_that_follows_its_decisions_goes_all_the_way_to_done()
    {
        // Given a healthy job starting in shadow that reports its new phase on its next signal
        var job = new LifecycleSimulation("shadow");

        // When it signals once a minute for ten hours
        job.Minutes(0, 10 * 60, JobMetrics.Healthy);

        // Then: promoted at 30; acknowledged reverse_shadow at 31, promoted at 91; acknowledged cleanup at 92, done at 122
        Assert.Equal(
            [("shadow", "reverse_shadow", 30.0), ("reverse_shadow", "cleanup", 91.0), ("cleanup", "done", 122.0)],
            job.Decisions.Select(d => (d.From, d.To, (d.DecidedAt - LifecycleSimulation.Start).TotalMinutes)));
        Assert.All(job.Decisions, d => Assert.Equal(PhaseDecision.Promote, d.Direction));
        Assert.Equal(3, job.State.PhaseChanges);
        Assert.Equal(LifecycleSimulation.At(123), job.State.PhaseSince);
    }

    [Fact]
    public void Done_is_terminal()
    {
        // Given a job in done
        var job = new LifecycleSimulation("done");

        // When it signals for hours, first healthy, then failing everything
        job.Minutes(0, 120, JobMetrics.Healthy);
        job.Minutes(121, 360, JobMetrics.Of(
            (JobMetrics.ChecksumMismatchRate, 0.5), (JobMetrics.LandingLatencyP95Ms, 99_000), (JobMetrics.ErrorRate, 0.9)));

        // Then it is neither promoted nor demoted, and the report has no gate
        Assert.Empty(job.Decisions);
        Assert.Equal("done", job.State.AssignedPhase);
        Assert.Equal(0, job.State.DemotionStreak);
        Assert.Null(job.Report.NextPhase);
        Assert.Empty(job.Report.Criteria);
        Assert.False(job.Report.AllPassed);
    }

    [Fact]
    public void Decide_makes_no_decision_twice_for_the_same_signal()
    {
        // Given a job promoted by its latest signal
        var job = new LifecycleSimulation("shadow");
        job.Minutes(0, 30, JobMetrics.Healthy);
        Assert.Single(job.Decisions);

        // When deciding again without a new signal
        var again = JobLifecycleDecider.Decide(job.State, job.Policy);

        // Then nothing: the job has not acknowledged its new phase yet
        Assert.Null(again);
    }
}
