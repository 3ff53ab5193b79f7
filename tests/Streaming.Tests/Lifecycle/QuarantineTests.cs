using Streaming.Lifecycle;
using Xunit;

namespace Streaming.Tests.Lifecycle;

public sealed class QuarantineTests
{
    static readonly IReadOnlyDictionary<string, double> Good = JobMetrics.Of(("error_rate", 0));
    static readonly IReadOnlyDictionary<string, double> Bad = JobMetrics.Of(("error_rate", 0.5));

    /// <summary>a → b on one clean signal, b → a on one bad one; three changes within an hour quarantine the job.</summary>
    static readonly LifecyclePolicy Flappy = TestPolicies.TwoPhases(
        [new Criterion("error_rate", Aggregation.Last, Comparison.LessOrEqual, 0.01)],
        TimeSpan.FromMinutes(5),
        demote: new GateRule(TimeSpan.FromMinutes(5), 1, [new Criterion("error_rate", Aggregation.Last, Comparison.LessOrEqual, 0.1)]),
        quarantine: new QuarantineRule(3, TimeSpan.FromHours(1)));

    [Fact]
    public void The_change_that_reaches_the_limit_quarantines_the_job_and_nothing_moves_it_after()
    {
        // Given a job that flaps: promoted at 1, demoted at 2, promoted again at 3
        var job = new LifecycleSimulation("a", Flappy);
        job.Signal(1, Good);
        job.Signal(2, Bad);
        var third = job.Signal(3, Good);

        // Then the third change quarantines it, and says why
        Assert.NotNull(third);
        Assert.True(third.Quarantines);
        Assert.EndsWith("quarantined: 3 phase changes within 60m", third.Reason, StringComparison.Ordinal);
        Assert.Equal(LifecycleSimulation.At(3), job.State.QuarantinedAt);
        Assert.Contains(LifecycleFlags.Quarantined, job.State.Flags());

        // When it keeps breaking its demote criteria for an hour
        job.Minutes(4, 64, Bad);

        // Then it is held where it is
        Assert.Equal(3, job.Decisions.Count);
        Assert.Equal("b", job.State.AssignedPhase);
        Assert.True(job.Report.Quarantined);
    }

    [Theory]
    [InlineData(10, true)]
    [InlineData(29, true)]
    [InlineData(31, false)]
    public void Only_changes_within_the_period_count(int minutesBetweenChanges, bool quarantined)
    {
        var job = new LifecycleSimulation("a", Flappy);
        job.Signal(0, Good);
        job.Signal(minutesBetweenChanges, Bad);
        job.Signal(2 * minutesBetweenChanges, Good);

        Assert.Equal(3, job.Decisions.Count);
        Assert.Equal(quarantined, job.State.Quarantined);
    }

    [Fact]
    public void A_released_job_is_the_policys_again_with_its_change_count_started_afresh()
    {
        var job = new LifecycleSimulation("a", Flappy);
        job.Signal(1, Good);
        job.Signal(2, Bad);
        job.Signal(3, Good);

        var released = JobLifecycleDecider.Release(job.State);

        Assert.False(released.Quarantined);
        Assert.Empty(released.RecentChanges);
    }
}
