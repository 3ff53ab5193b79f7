using Streaming.Api.Jobs;
using Streaming.Lifecycle;

namespace Streaming.Tests.Surface;

/// <summary>What holds a job and when its promotion windows next open, as the job page says it (pure).</summary>
public sealed class JobHoldTests
{
    static LifecyclePolicy Policy(string windows) => PolicyDocument.Parse($$"""
        name: windowed
        phases: [shadow, reverse_shadow]
        windows: {{windows}}
        gates:
          - from: shadow
            to: reverse_shadow
            soak: 5m
            promote:
              window: 5m
              criteria: [ { metric: error_rate, aggregation: max, comparison: "<=", threshold: 0.01 } ]
        """, 1).Policy!;

    static JobRow Row(params string[] flags) =>
        new("job-1", "windowed@1", "shadow", null, null, false, "shadow", 3, new DateTimeOffset(2026, 3, 6, 16, 0, 0, TimeSpan.Zero), 3, 0, null, null,
            flags, new Dictionary<string, double>(), new Dictionary<string, string>(), null, []);

    const string Weekdays = """[ { days: [mon-fri], from: "09:00", to: "17:00", timeZone: Europe/Berlin } ]""";

    [Fact]
    public void After_friday_evenings_close_the_next_window_opens_on_monday_morning_in_its_own_time_zone()
    {
        var friday = new DateTimeOffset(2026, 3, 6, 16, 30, 0, TimeSpan.Zero); // 17:30 in Berlin
        var (at, _) = WindowOpenings.Next(Policy(Weekdays).Gating.Windows, friday)!.Value;
        Assert.Equal(new DateTimeOffset(2026, 3, 9, 8, 0, 0, TimeSpan.Zero), at);
    }

    [Fact]
    public void Before_a_windows_start_on_one_of_its_days_it_opens_that_same_day()
    {
        var early = new DateTimeOffset(2026, 3, 4, 6, 0, 0, TimeSpan.Zero); // Wednesday 07:00 in Berlin
        Assert.Equal(new DateTimeOffset(2026, 3, 4, 8, 0, 0, TimeSpan.Zero), WindowOpenings.Next(Policy(Weekdays).Gating.Windows, early)!.Value.At);
    }

    [Fact]
    public void A_start_that_the_change_to_summer_time_skips_opens_when_the_clocks_have_moved_on()
    {
        // 02:30 does not exist in Berlin on 29 March 2026: the clocks go from 02:00 to 03:00 (CEST, UTC+2)
        var windows = Policy("""[ { days: [sun], from: "02:30", to: "05:00", timeZone: Europe/Berlin } ]""").Gating.Windows;
        var saturday = new DateTimeOffset(2026, 3, 28, 12, 0, 0, TimeSpan.Zero);
        Assert.Equal(new DateTimeOffset(2026, 3, 29, 1, 0, 0, TimeSpan.Zero), WindowOpenings.Next(windows, saturday)!.Value.At);
    }

    [Fact]
    public void A_job_outside_its_policys_windows_is_held_until_the_next_opening_named_in_the_windows_zone()
    {
        var friday = new DateTimeOffset(2026, 3, 6, 16, 30, 0, TimeSpan.Zero);
        var hold = Assert.Single(JobHolds.Of(Row(), Policy(Weekdays), friday, new FleetPauses(), null));
        Assert.Equal((JobHold.OutsideWindow, new DateTimeOffset(2026, 3, 9, 8, 0, 0, TimeSpan.Zero)), (hold.Kind, hold.Until));
        Assert.Equal("outside the promotion window; next opens Mon 09:00 Europe/Berlin", hold.Note);
    }

    [Fact]
    public void Inside_a_window_nothing_holds_the_job()
    {
        var monday = new DateTimeOffset(2026, 3, 9, 10, 0, 0, TimeSpan.Zero);
        Assert.Empty(JobHolds.Of(Row(), Policy(Weekdays), monday, new FleetPauses(), null));
    }

    [Fact]
    public void The_narrowest_pause_holds_the_job_and_a_pause_of_another_policys_gate_does_not()
    {
        var at = new DateTimeOffset(2026, 3, 9, 10, 0, 0, TimeSpan.Zero);
        var pauses = JobHolds.Book([
            new Pause(Guid.NewGuid(), null, null, "bob", "freeze", at, null),
            new Pause(Guid.NewGuid(), "windowed", "reverse_shadow", "alice", "audit", at, at.AddHours(2)),
            new Pause(Guid.NewGuid(), "other", null, "carol", "other incident", at, null),
        ]);
        var hold = Assert.Single(JobHolds.Of(Row(), Policy(Weekdays), at, pauses, null));
        Assert.Equal("held by the pause of gate shadow→reverse_shadow by alice until 2026-03-09 12:00", hold.Note);
        Assert.Equal(("alice", "audit", at.AddHours(2)), (hold.Actor, hold.Reason, hold.Until));
    }
}
