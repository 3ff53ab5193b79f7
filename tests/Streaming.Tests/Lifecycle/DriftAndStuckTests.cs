using Streaming.Lifecycle;
using Xunit;

namespace Streaming.Tests.Lifecycle;

/// <summary>The flags the default policy sets on a job that does not follow a change (drifted) or does not pass (stuck).</summary>
public sealed class DriftAndStuckTests
{
    [Theory]
    [InlineData(5, false)]
    [InlineData(10, false)]
    [InlineData(11, true)]
    public void A_job_still_reporting_its_old_phase_after_the_acknowledgement_time_is_drifted(int minutesAfterChange, bool drifted)
    {
        // Given a job promoted at minute 30 that never follows the change
        var job = new LifecycleSimulation("shadow") { AckDelay = TimeSpan.FromDays(1) };
        job.Minutes(0, 30, JobMetrics.Healthy);
        Assert.Equal("reverse_shadow", job.State.AssignedPhase);

        // When it keeps reporting shadow for this many minutes
        job.Minutes(31, 30 + minutesAfterChange, JobMetrics.Healthy);

        // Then it is awaiting acknowledgement throughout, and drifted only past the policy's 10 minutes
        var report = job.Report;
        Assert.True(report.AwaitingAcknowledgement);
        Assert.Equal(drifted, report.Drifted);
    }

    [Fact]
    public void Acknowledging_the_new_phase_ends_the_drift()
    {
        // Given a job promoted at minute 30 that follows the change only after 20 minutes
        var job = new LifecycleSimulation("shadow") { AckDelay = TimeSpan.FromMinutes(20) };
        job.Minutes(0, 45, JobMetrics.Healthy);
        Assert.True(job.Report.Drifted);

        // When it reports reverse_shadow from minute 51
        job.Minutes(46, 55, JobMetrics.Healthy);

        // Then it has acknowledged, and is no longer drifted
        Assert.Equal("reverse_shadow", job.State.LastReportedPhase);
        Assert.False(job.State.AwaitingAcknowledgement);
        Assert.False(job.Report.Drifted);
    }

    [Theory]
    [InlineData(89, false)]
    [InlineData(90, true)]
    public void A_job_whose_criteria_do_not_pass_for_three_soaks_is_stuck_on_the_criterion_that_fails(int minutes, bool stuck)
    {
        // Given a shadow job (soak 30 minutes) whose error rate stays above the threshold
        var job = new LifecycleSimulation("shadow");

        // When it has been in shadow this long
        job.Minutes(0, minutes, JobMetrics.Healthy.With(JobMetrics.ErrorRate, 0.02));

        // Then it is stuck from three soaks on, and the report names the failing criterion with its value
        var report = job.Report;
        Assert.Equal(stuck, report.Stuck);
        Assert.Equal((JobMetrics.ErrorRate, 0.02, 0.01, Verdict.Fail),
            (report.Blocking?.Metric, report.Blocking?.Value, report.Blocking?.Threshold, report.Blocking?.Verdict));
    }

    [Fact]
    public void A_job_in_its_last_phase_is_never_stuck()
    {
        var job = new LifecycleSimulation("done");

        job.Minutes(0, 300, JobMetrics.Healthy.With(JobMetrics.ErrorRate, 0.9));

        Assert.False(job.Report.Stuck);
    }
}
