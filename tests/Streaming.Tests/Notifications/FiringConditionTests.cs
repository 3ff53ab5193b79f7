using Streaming.Api.Notifications;

namespace Streaming.Tests.Notifications;

/// <summary>When a periodic condition that fired is resolved: only once it has stayed back under its threshold for the hold.</summary>
public sealed class FiringConditionTests
{
    static readonly DateTimeOffset Start = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
    static readonly TimeSpan Hold = TimeSpan.FromMinutes(5);

    [Fact]
    public void A_condition_flapping_around_its_threshold_is_never_resolved()
    {
        // Given a condition that fired, checked every 15 s, alternately over and under its threshold for an hour
        var condition = new FiringCondition("dead-letters:1", null);
        var resolutions = 0;
        for (var check = 0; check < 240; check++)
        {
            var (next, resolved) = condition.Checked(clear: check % 2 == 1, Start.AddSeconds(15 * check), Hold);
            condition = next;
            resolutions += resolved ? 1 : 0;
        }

        // Then it is never told resolved: each dip ends before the hold does
        Assert.Equal(0, resolutions);
    }

    [Fact]
    public void A_condition_that_stays_clear_for_the_hold_is_resolved_at_the_end_of_it_counting_from_its_first_clear_check()
    {
        var condition = new FiringCondition("stuck:1", null);

        var (afterDip, resolvedAtDip) = condition.Checked(clear: true, Start, Hold);
        var (backOver, _) = afterDip.Checked(clear: false, Start.AddMinutes(1), Hold);
        var (clearAgain, resolvedAgain) = backOver.Checked(clear: true, Start.AddMinutes(2), Hold);
        var (stillHeld, resolvedEarly) = clearAgain.Checked(clear: true, Start.AddMinutes(6.9), Hold);
        var (_, resolved) = stillHeld.Checked(clear: true, Start.AddMinutes(7), Hold);

        Assert.False(resolvedAtDip);
        Assert.Null(backOver.ClearSince);
        Assert.False(resolvedAgain);
        Assert.Equal(Start.AddMinutes(2), stillHeld.ClearSince);
        Assert.False(resolvedEarly);
        Assert.True(resolved);
    }

    [Fact]
    public void Without_a_hold_the_first_clear_check_resolves()
    {
        Assert.True(new FiringCondition("fold-lag:1", null).Checked(clear: true, Start, TimeSpan.Zero).Resolved);
        Assert.False(new FiringCondition("fold-lag:1", null).Checked(clear: false, Start, TimeSpan.Zero).Resolved);
    }
}
