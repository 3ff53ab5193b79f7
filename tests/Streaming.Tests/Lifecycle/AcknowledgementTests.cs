using Streaming.Lifecycle;
using Xunit;

namespace Streaming.Tests.Lifecycle;

public sealed class AcknowledgementTests
{
    [Fact]
    public void Time_in_phase_counts_from_the_acknowledgement_not_from_the_decision()
    {
        // Given a healthy job promoted to reverse_shadow at minute 30 that keeps reporting shadow for 20 more minutes
        var job = new LifecycleSimulation("shadow") { AckDelay = TimeSpan.FromMinutes(20) };
        job.Minutes(0, 50, JobMetrics.Healthy);

        // Then it is still awaiting acknowledgement, and none of its shadow signals entered the window
        Assert.Equal("reverse_shadow", job.State.AssignedPhase);
        Assert.Equal(LifecycleSimulation.At(30), job.State.AssignedAt);
        Assert.True(job.State.AwaitingAcknowledgement);
        Assert.Empty(job.State.Window);
        Assert.Equal(TimeSpan.Zero, job.Report.TimeInPhase);

        // When it reports reverse_shadow from minute 51 on
        job.Minutes(51, 150, JobMetrics.Healthy);

        // Then its 60-minute soak ran from 51: promoted at 111, not at 90
        Assert.Equal(
            [("shadow", "reverse_shadow", 30.0), ("reverse_shadow", "cleanup", 111.0)],
            job.Decisions.Take(2).Select(d => (d.From, d.To, (d.DecidedAt - LifecycleSimulation.Start).TotalMinutes)));
    }

    [Fact]
    public void Breaching_signals_that_still_report_the_old_phase_do_not_demote()
    {
        // Given a job just promoted to reverse_shadow at minute 30
        var job = new LifecycleSimulation("shadow") { AckDelay = TimeSpan.FromMinutes(20) };
        job.Minutes(0, 30, JobMetrics.Healthy);

        // When it keeps running shadow with an error rate that would break reverse_shadow's admission
        job.Minutes(31, 50, JobMetrics.Healthy.With(JobMetrics.ErrorRate, 0.5));

        // Then nothing counts until it acknowledges
        Assert.Single(job.Decisions);
        Assert.Equal(0, job.State.DemotionStreak);
        Assert.Equal([LifecycleFlags.AwaitingAck], job.State.Flags());
    }

    [Fact]
    public void The_first_signal_of_a_job_reporting_a_known_phase_assigns_and_acknowledges_it()
    {
        // Given a job never seen before
        var state = JobLifecycleDecider.Initial("job-1");

        // When its first signal reports cleanup
        state = JobLifecycleDecider.Evolve(state, new SignalSample(1, 7, LifecycleSimulation.At(0), "cleanup", JobMetrics.Healthy),
            DefaultPolicies.CdcMigration);

        // Then it is in cleanup since that signal, with nothing to flag
        Assert.Equal("cleanup", state.AssignedPhase);
        Assert.Equal(LifecycleSimulation.At(0), state.AssignedAt);
        Assert.Equal(LifecycleSimulation.At(0), state.PhaseSince);
        Assert.Empty(state.Flags());
        Assert.Equal(0, state.PhaseChanges);
        Assert.Equal((1L, 7L), (state.LastVersion, state.LastSeq));
        Assert.Single(state.Window);
    }

    [Theory]
    [InlineData("canary")]
    [InlineData("Shadow")]
    [InlineData("")]
    public void A_job_reporting_an_unknown_phase_is_assigned_shadow(string reported)
    {
        // Given a job whose first signals report a phase the policy does not have
        var job = new LifecycleSimulation(reported);
        job.Minutes(0, 9, JobMetrics.Healthy);

        // Then it is assigned shadow, flagged, and awaits acknowledgement
        Assert.Equal("shadow", job.State.AssignedPhase);
        Assert.Null(job.State.PhaseSince);
        Assert.Equal([LifecycleFlags.AwaitingAck, LifecycleFlags.UnknownPhaseReported], job.State.Flags());
        Assert.Empty(job.Decisions);

        // When it reports shadow from minute 10
        job.Minutes(10, 45, "shadow", JobMetrics.Healthy);

        // Then its soak starts there and the flags clear
        Assert.Equal(LifecycleSimulation.At(40), Assert.Single(job.Decisions).DecidedAt);
        Assert.Equal([LifecycleFlags.AwaitingAck], job.State.Flags());
    }

    [Fact]
    public void A_job_that_wanders_off_its_assigned_phase_is_flagged_and_not_promoted()
    {
        // Given a job that acknowledged reverse_shadow and has soaked for 59 minutes
        var job = new LifecycleSimulation("reverse_shadow");
        job.Minutes(0, 59, JobMetrics.Healthy);

        // When it reports cleanup on its own from then on
        job.Minutes(60, 120, "cleanup", JobMetrics.Healthy);

        // Then it is not promoted on signals of the wrong phase, and the dashboard shows the mismatch
        Assert.Empty(job.Decisions);
        Assert.Equal("reverse_shadow", job.State.AssignedPhase);
        Assert.Equal([LifecycleFlags.PhaseMismatch], job.State.Flags());
        Assert.All(job.State.Window, s => Assert.True(s.EmittedAt < LifecycleSimulation.At(60)));

        // When it returns to reverse_shadow
        var decision = job.Signal(121, "reverse_shadow", JobMetrics.Healthy);

        // Then its window holds too few recent signals of its phase until five more arrive
        Assert.Null(decision);
        job.Minutes(122, 125, "reverse_shadow", JobMetrics.Healthy);
        Assert.Equal(LifecycleSimulation.At(125), Assert.Single(job.Decisions).DecidedAt);
    }

    [Fact]
    public void Out_of_order_signals_count_when_inside_the_window_and_the_window_stays_sorted()
    {
        // Given a shadow job with healthy signals at minutes 0…29, and a late bad one emitted at minute 20
        var job = new LifecycleSimulation("shadow");
        job.Minutes(0, 29, JobMetrics.Healthy);
        job.Signal(20, JobMetrics.Healthy.With(JobMetrics.ErrorRate, 0.02));

        // Then the window is in event time order and "now" did not go back
        Assert.Equal(job.State.Window.OrderBy(s => s.EmittedAt).Select(s => s.Version), job.State.Window.Select(s => s.Version));
        Assert.Equal(LifecycleSimulation.At(29), job.State.LastSignalAt);

        // When the soak completes at minute 30
        job.Minutes(30, 40, JobMetrics.Healthy);

        // Then the late bad signal blocks promotion until it leaves the window at minute 35; the evaluations at 35, 36
        // and 37 are the three passing ones in a row that promotion needs
        Assert.Equal(LifecycleSimulation.At(37), Assert.Single(job.Decisions).DecidedAt);
    }

    [Fact]
    public void A_late_signal_older_than_every_window_is_not_kept()
    {
        // Given a job kept in shadow (a policy without the shadow gate, whose longest window is 30 minutes) at minute 60
        var job = new LifecycleSimulation("shadow", DefaultPolicies.CdcMigration with { Gates = DefaultPolicies.CdcMigration.Gates.Skip(1).ToList() });
        job.Minutes(0, 60, JobMetrics.Healthy);

        // When a signal emitted at minute 10 arrives
        job.Signal(10, JobMetrics.Healthy);

        // Then the window still covers only (30, 60]
        Assert.Equal(30, job.State.Window.Length);
        Assert.Equal(LifecycleSimulation.At(31), job.State.Window[0].EmittedAt);
    }

    [Fact]
    public void The_last_aggregation_takes_the_latest_emitted_value_not_the_latest_arrived()
    {
        // Given a policy whose gate looks at the last error rate
        var policy = TestPolicies.TwoPhases(
            [new Criterion(JobMetrics.ErrorRate, Aggregation.Last, Comparison.LessOrEqual, 1)], TimeSpan.FromMinutes(10), soak: TimeSpan.FromHours(1), name: "last");
        var job = new LifecycleSimulation("a", policy);

        // When the signal emitted at minute 5 arrives after the one emitted at minute 6
        job.Signal(4, JobMetrics.Of((JobMetrics.ErrorRate, 0.4)));
        job.Signal(6, JobMetrics.Of((JobMetrics.ErrorRate, 0.6)));
        job.Signal(5, JobMetrics.Of((JobMetrics.ErrorRate, 0.5)));

        // Then
        Assert.Equal(0.6, Assert.Single(job.Report.Criteria).Value);
        Assert.Equal(0.5, job.State.LatestMetrics[JobMetrics.ErrorRate]);
    }
}
