using Streaming.Lifecycle;
using Xunit;

namespace Streaming.Tests.Lifecycle;

public sealed class OverrideTests
{
    static readonly IReadOnlyDictionary<string, double> Erroring = JobMetrics.Healthy.With(JobMetrics.ErrorRate, 0.05);

    [Fact]
    public void A_held_job_is_not_promoted_and_is_promoted_once_released()
    {
        // Given a healthy shadow job that an operator holds
        var job = new LifecycleSimulation("shadow");
        job.Override(OverrideKind.Hold);

        // When it has passed every criterion for 40 minutes
        job.Minutes(0, 40, JobMetrics.Healthy);

        // Then it stays in shadow, flagged held
        Assert.Empty(job.Decisions);
        Assert.Contains(LifecycleFlags.Held, job.State.Flags());

        // When the hold is released
        Assert.Null(job.Override(OverrideKind.Release));

        // Then the next signal promotes it, and the hold is recorded as ended
        Assert.Equal("reverse_shadow", job.Signal(41, JobMetrics.Healthy)?.To);
        Assert.Equal(OverrideKind.Hold, Assert.Single(job.EndedOverrides).Kind);
    }

    [Fact]
    public void A_held_job_is_not_demoted_either()
    {
        var job = new LifecycleSimulation("reverse_shadow");
        job.Minutes(0, 4, JobMetrics.Healthy);
        job.Override(OverrideKind.Hold);

        job.Minutes(5, 30, Erroring);

        Assert.Empty(job.Decisions);
        Assert.Equal("reverse_shadow", job.State.AssignedPhase);
    }

    [Fact]
    public void A_pin_moves_the_job_at_once_and_the_policy_never_moves_it_from_there()
    {
        // Given a shadow job
        var job = new LifecycleSimulation("shadow");
        job.Minutes(0, 5, JobMetrics.Healthy);

        // When an operator pins it to cleanup
        var change = job.Override(OverrideKind.Pin, "cleanup");

        // Then it is moved there by the override, with who and why
        Assert.NotNull(change);
        Assert.Equal(("shadow", "cleanup", PhaseDecision.Override, PhaseDecision.OverridePolicy), (change.From, change.To, change.Direction, change.Policy));
        Assert.Equal("pin to cleanup by alice: testing", change.Reason);

        // When it runs healthily in cleanup for two hours, then badly for an hour
        job.Minutes(6, 126, JobMetrics.Healthy);
        job.Minutes(127, 187, Erroring);

        // Then the policy neither promoted it to done nor demoted it
        Assert.Single(job.Decisions);
        Assert.Equal("cleanup", job.State.AssignedPhase);
        Assert.Contains(LifecycleFlags.Pinned, job.State.Flags());
    }

    [Theory]
    [InlineData("shadow", OverrideKind.ForcePromote, "reverse_shadow")]
    [InlineData("cleanup", OverrideKind.ForcePromote, "done")]
    [InlineData("reverse_shadow", OverrideKind.ForceDemote, "shadow")]
    [InlineData("done", OverrideKind.ForceDemote, "cleanup")]
    [InlineData("shadow", OverrideKind.ForceDemote, null)]
    [InlineData("done", OverrideKind.ForcePromote, null)]
    [InlineData("shadow", OverrideKind.Pin, null)]
    public void A_forced_move_goes_one_phase_and_there_is_none_past_either_end(string phase, OverrideKind kind, string? movedTo)
    {
        var job = new LifecycleSimulation(phase);
        job.Minutes(0, 2, JobMetrics.Healthy);

        var change = job.Override(kind, kind == OverrideKind.Pin ? "canary" : null);

        Assert.Equal(movedTo, change?.To);
        Assert.Null(job.State.ActiveOverride);
    }

    [Fact]
    public void A_forced_move_acts_once_and_the_policy_judges_the_job_from_its_new_phase()
    {
        var job = new LifecycleSimulation("shadow");
        job.Minutes(0, 2, JobMetrics.Healthy);

        job.Override(OverrideKind.ForcePromote);
        job.Minutes(3, 70, JobMetrics.Healthy);

        Assert.Equal([PhaseDecision.Override, PhaseDecision.Promote], job.Decisions.Select(d => d.Direction));
        Assert.Equal("cleanup", job.State.AssignedPhase);
    }

    [Fact]
    public void A_hold_ends_by_itself_when_the_job_s_event_time_reaches_its_expiry()
    {
        // Given a healthy shadow job held until minute 45
        var job = new LifecycleSimulation("shadow");
        job.Override(OverrideKind.Hold, untilMinute: 45);

        // When it signals until minute 44, then at minute 45
        job.Minutes(0, 44, JobMetrics.Healthy);
        Assert.Empty(job.Decisions);
        var decision = job.Signal(45, JobMetrics.Healthy);

        // Then the hold has ended, recorded as such, and the policy promoted the job at once
        Assert.Equal(OverrideKind.Hold, Assert.Single(job.EndedOverrides).Kind);
        Assert.Null(job.State.ActiveOverride);
        Assert.Equal(("reverse_shadow", LifecycleSimulation.At(45)), (decision?.To, decision?.DecidedAt));
    }

    [Fact]
    public void A_new_hold_replaces_the_one_in_force()
    {
        var job = new LifecycleSimulation("shadow");
        job.Override(OverrideKind.Hold, untilMinute: 10);

        job.Override(OverrideKind.Hold);

        Assert.Single(job.EndedOverrides);
        Assert.Null(job.State.ActiveOverride!.ExpiresAt);
    }

    [Fact]
    public void Releasing_a_quarantined_job_returns_it_to_the_policy_and_overrides_never_count_towards_quarantine()
    {
        // Given a policy that quarantines at the second change within a day, and a job demoted once, put back by an
        // operator (which does not count), then demoted again
        var flapping = DefaultPolicies.CdcMigration with { Quarantine = new QuarantineRule(2, TimeSpan.FromHours(24)) };
        var quarantined = new LifecycleSimulation("reverse_shadow", flapping);
        quarantined.Minutes(0, 4, JobMetrics.Healthy);
        quarantined.Minutes(5, 7, Erroring);
        quarantined.Override(OverrideKind.ForcePromote);
        Assert.False(quarantined.State.Quarantined);
        quarantined.Minutes(8, 10, Erroring);
        Assert.True(quarantined.State.Quarantined);

        // When it is released
        quarantined.Override(OverrideKind.Release);

        // Then it is no longer quarantined and its change count starts afresh
        Assert.False(quarantined.State.Quarantined);
        Assert.Empty(quarantined.State.RecentChanges);
        Assert.DoesNotContain(LifecycleFlags.Quarantined, quarantined.State.Flags());
    }

    [Fact]
    public void A_snapshot_keeps_the_override_in_force()
    {
        var job = new LifecycleSimulation("shadow");
        job.Minutes(0, 3, JobMetrics.Healthy);
        job.Override(OverrideKind.Pin, "cleanup", untilMinute: 90);

        var restored = JobLifecycleSnapshot.Read(JobLifecycleSnapshot.Write(job.State));

        Assert.Equal(job.State.ActiveOverride, restored.ActiveOverride);
        Assert.Equal(("cdc-migration", "cleanup"), (restored.Policy, restored.AssignedPhase));
    }
}
