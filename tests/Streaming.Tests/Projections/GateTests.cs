using System.Text.Json;
using Streaming.Contracts.History;
using Streaming.Lifecycle;
using Streaming.Tests.Lifecycle;
using Xunit;

namespace Streaming.Tests.Projections;

/// <summary>Silent jobs, operators' pauses, promotion windows and a breaker tripped by hand, over many jobs in event time.</summary>
public sealed class GateTests
{
    static readonly IReadOnlyDictionary<string, double> Healthy = JobMetrics.Of(("error_rate", 0));
    static readonly IReadOnlyDictionary<string, double> Failing = JobMetrics.Of(("error_rate", 0.5));

    /// <summary>a → b on a clean error rate over 10 minutes after a 10-minute soak, demoted from b at once on a bad one; b → c never.</summary>
    static string Policy(string controls = "") => $$"""
        name: gated
        phases: [a, b, c]
        {{controls}}
        gates:
          - from: a
            to: b
            soak: 10m
            promote:
              window: 10m
              criteria: [ { metric: error_rate, aggregation: max, comparison: "<=", threshold: 0.01 } ]
            demote:
              window: 10m
              criteria: [ { metric: error_rate, aggregation: last, comparison: "<=", threshold: 0.1 } ]
          - from: b
            to: c
            soak: 10m
            promote:
              window: 10m
              criteria: [ { metric: approved, aggregation: count, comparison: ">=", threshold: 1 } ]
        """;

    static double Minute(DateTimeOffset at) => (at - FleetSimulation.Start).TotalMinutes;

    static List<JobSilenced> Silenced(FleetSimulation fleet) =>
        [.. fleet.Replay.Appends.Where(a => a.Event.Type == JobSilenced.EventType).Select(a => JsonSerializer.Deserialize<JobSilenced>(a.Event.Data, JsonOptions)!)];

    static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    [Fact]
    public void A_job_that_stops_signalling_turns_silent_when_the_fleets_event_time_passes_its_silence_without_a_signal_of_its_own()
    {
        // Given two jobs under a 30-minute silence, one of which stops after minute 5
        var fleet = new FleetSimulation(Policy("silence: 30m"));
        fleet.Minutes(["job-1", "job-2"], 0, 5, Healthy);

        // When only the other goes on signalling
        fleet.Minutes(["job-1"], 6, 60, Healthy);

        // Then the quiet one is recorded silent once, at the first signal of the fleet more than 30 minutes after its last
        var silenced = Assert.Single(Silenced(fleet));
        Assert.Equal(("job-2", "a", FleetSimulation.At(5), FleetSimulation.At(36), "hold"),
            (silenced.JobId, silenced.Phase, silenced.LastSignalAt, silenced.Watermark, silenced.Action));
        Assert.True(fleet.Replay.Engine.Gates.Silence.IsSilent("job-2"));
        Assert.Equal(1, fleet.Replay.Engine.Gates.Silence.SilentCount);
        // and held where it is (no decision for it), while the other was promoted as usual
        Assert.DoesNotContain(fleet.Decisions, d => d.JobId == "job-2");
        Assert.Contains(fleet.Decisions, d => d is { JobId: "job-1", Direction: PhaseDecision.Promote });
    }

    [Fact]
    public void A_silent_job_is_not_promoted_by_a_late_signal_but_is_by_its_next_timely_one()
    {
        // Given job-2 silent since minute 40 (its last signal at minute 9, before its soak ended)
        var fleet = new FleetSimulation(Policy("silence: 30m"));
        fleet.Minutes(["job-1", "job-2"], 0, 9, Healthy);
        fleet.Minutes(["job-1"], 10, 50, Healthy);
        Assert.True(fleet.Replay.Engine.Gates.Silence.IsSilent("job-2"));

        // When it sends a signal from minute 12 (its clock lags): soaked and passing, but older than the fleet allows
        fleet.Signal("job-2", 12, Healthy);

        // Then it waits, told once why, and stays silent
        Assert.DoesNotContain(fleet.Decisions, d => d.JobId == "job-2");
        var deferred = Assert.Single(fleet.Deferrals, d => d.JobId == "job-2");
        Assert.Equal(PromotionDeferred.Silent, deferred.Cause);
        Assert.Contains("silent", deferred.Reason, StringComparison.Ordinal);
        Assert.True(fleet.Replay.Engine.Gates.Silence.IsSilent("job-2"));

        // When its next signal is timely, the silence clears and the promotion it waited for happens
        fleet.Signal("job-2", 50, Healthy);
        Assert.False(fleet.Replay.Engine.Gates.Silence.IsSilent("job-2"));
        var promoted = Assert.Single(fleet.Decisions, d => d.JobId == "job-2");
        Assert.Equal(("a", "b", FleetSimulation.At(50)), (promoted.From, promoted.To, promoted.DecidedAt));
    }

    [Fact]
    public void With_silence_action_demote_a_silent_job_is_demoted_once_and_clears_with_its_next_signal()
    {
        // Given two jobs that acknowledged phase b, under a policy that demotes silent jobs after 20 minutes
        var fleet = new FleetSimulation(Policy("silence: 20m\nsilenceAction: demote"));
        fleet.Minutes(["job-1", "job-2"], 0, 5, Healthy, startPhase: "b");

        // When job-2 falls quiet and job-1 signals for an hour more
        fleet.Minutes(["job-1"], 6, 65, Healthy);

        // Then job-2 is demoted once, when the fleet's event time passed its silence, saying why
        var demoted = Assert.Single(fleet.Decisions, d => d.JobId == "job-2");
        Assert.Equal((PhaseDecision.Demote, "b", "a", FleetSimulation.At(26)), (demoted.Direction, demoted.From, demoted.To, demoted.DecidedAt));
        Assert.StartsWith("silent: no signal since", demoted.Reason, StringComparison.Ordinal);
        Assert.Equal("demote", Assert.Single(Silenced(fleet)).Action);

        // When it signals again (in the phase it was sent back to), it is silent no more and its state follows the demotion
        fleet.Signal("job-2", 66, Healthy);
        Assert.False(fleet.Replay.Engine.Gates.Silence.IsSilent("job-2"));
        Assert.Equal("a", fleet.Replay.StateOf("job-2").AssignedPhase);
        Assert.Single(fleet.Decisions, d => d.JobId == "job-2");
    }

    [Fact]
    public void A_paused_fleet_defers_promotions_once_each_while_demotions_still_apply_and_resuming_releases_them()
    {
        // Given three healthy jobs in a, and job-9 in b going bad; the fleet paused at minute 5
        var fleet = new FleetSimulation(Policy());
        fleet.Minutes(["job-1", "job-2", "job-3"], 0, 4, Healthy);
        fleet.Pause(null, null, 4.5);

        // When they go on signalling, and job-9 fails in b
        fleet.Minutes(["job-1", "job-2", "job-3"], 5, 29, Healthy);
        fleet.Minutes(["job-9"], 20, 22, Failing, startPhase: "b");

        // Then nobody is promoted, each waiting job is told once that the fleet is paused, by whom and why
        Assert.DoesNotContain(fleet.Decisions, d => d.Direction == PhaseDecision.Promote);
        Assert.Equal(["job-1", "job-2", "job-3"], fleet.Deferrals.Select(d => d.JobId));
        Assert.All(fleet.Deferrals, d =>
        {
            Assert.Equal((PromotionDeferred.Paused, FleetSimulation.At(10)), (d.Cause, d.DecidedAt));
            Assert.Contains("paused (the fleet) by alice: incident 7", d.Reason, StringComparison.Ordinal);
        });
        // and the failing job is demoted all the same
        Assert.Contains(fleet.Decisions, d => d is { JobId: "job-9", Direction: PhaseDecision.Demote });

        // When the fleet is resumed, the next signals promote the jobs
        fleet.Resume(null, null, 29.5);
        fleet.Minutes(["job-1", "job-2", "job-3"], 30, 30, Healthy);
        Assert.Equal(3, fleet.Decisions.Count(d => d.Direction == PhaseDecision.Promote && d.DecidedAt == FleetSimulation.At(30)));
    }

    [Fact]
    public void A_policy_that_pauses_demotions_too_withholds_them_until_the_pause_ends()
    {
        var fleet = new FleetSimulation(Policy("pauseDemotions: true"));
        fleet.Pause("gated", "b", 0);

        fleet.Minutes(["job-9"], 0, 5, Failing, startPhase: "b");
        Assert.DoesNotContain(fleet.Decisions, d => d.JobId == "job-9");

        fleet.Resume("gated", "b", 5.5);
        fleet.Signal("job-9", 6, Failing);
        var demoted = Assert.Single(fleet.Decisions, d => d.JobId == "job-9");
        Assert.Equal((PhaseDecision.Demote, FleetSimulation.At(6)), (demoted.Direction, demoted.DecidedAt));
    }

    [Fact]
    public void A_pause_of_one_gate_holds_only_promotions_into_that_phase_of_that_policy()
    {
        var fleet = new FleetSimulation(Policy());
        fleet.Pause("gated", "c", 0);
        fleet.Pause("other-policy", null, 0);

        fleet.Minutes(["job-1"], 0, 10, Healthy);

        Assert.Single(fleet.Decisions, d => d is { JobId: "job-1", To: "b" });
        Assert.Empty(fleet.Deferrals);
    }

    [Fact]
    public void A_pause_given_a_duration_ends_when_the_fleets_event_time_reaches_it_and_the_end_is_recorded()
    {
        // Given a pause of the policy for 20 minutes, placed in the log when the fleet's event time is minute 5
        var fleet = new FleetSimulation(Policy());
        fleet.Minutes(["job-1"], 0, 5, Healthy);
        fleet.Pause("gated", null, 5.2, TimeSpan.FromMinutes(20));

        // When the job signals on
        fleet.Minutes(["job-1"], 6, 30, Healthy);

        // Then it waits from minute 10 and is promoted at minute 25, when the pause reached its end (counted from minute 5)
        var deferred = Assert.Single(fleet.Deferrals);
        Assert.Contains($"until {FleetSimulation.At(25):u}", deferred.Reason, StringComparison.Ordinal);
        var promoted = Assert.Single(fleet.Decisions);
        Assert.Equal(FleetSimulation.At(25), promoted.DecidedAt);
        var resumed = Assert.Single(fleet.Replay.Appends, a => a.Event.Type == PromotionsResumed.EventType);
        Assert.Equal(PromotionsPaused.StreamFor("gated", null), resumed.StreamId);
        var ended = JsonSerializer.Deserialize<PromotionsResumed>(resumed.Event.Data, JsonOptions)!;
        Assert.True(ended.Expired);
        Assert.Equal(("promoter", FleetSimulation.At(25)), (ended.Actor, ended.At));
        Assert.Empty(fleet.Replay.Engine.Gates.Pauses.InForce);
    }

    [Fact]
    public void Outside_its_promotion_windows_a_job_waits_over_the_weekend_while_demotions_go_on()
    {
        // Given working-hours windows in Berlin; Friday 6 March 2026 15:50 UTC is 16:50 there (CET)
        var fleet = new FleetSimulation(Policy("""
            windows:
              - { days: [mon-fri], from: "09:00", to: "17:00", timeZone: Europe/Berlin }
            """));
        var friday = Minute(new DateTimeOffset(2026, 3, 6, 15, 50, 0, TimeSpan.Zero));
        var monday = Minute(new DateTimeOffset(2026, 3, 9, 8, 0, 0, TimeSpan.Zero));

        // When a healthy job signals every minute from Friday 16:50 to Monday 09:30, and another fails in b on Saturday
        fleet.Minutes(["job-1"], (int)friday, (int)monday + 30, Healthy);
        fleet.Minutes(["job-9"], (int)friday + 1000, (int)friday + 1002, Failing, startPhase: "b");

        // Then its soak ends at 17:00 Friday (the window's end): it waits, told once, and is promoted at 09:00 Monday
        var deferred = Assert.Single(fleet.Deferrals);
        Assert.Equal((PromotionDeferred.Window, new DateTimeOffset(2026, 3, 6, 16, 0, 0, TimeSpan.Zero)), (deferred.Cause, deferred.DecidedAt));
        Assert.Contains("mon,tue,wed,thu,fri 09:00-17:00 Europe/Berlin", deferred.Reason, StringComparison.Ordinal);
        var promoted = Assert.Single(fleet.Decisions, d => d.JobId == "job-1");
        Assert.Equal(new DateTimeOffset(2026, 3, 9, 8, 0, 0, TimeSpan.Zero), promoted.DecidedAt);
        // and the demotion on Saturday happened all the same
        Assert.Contains(fleet.Decisions, d => d is { JobId: "job-9", Direction: PhaseDecision.Demote });
    }

    [Fact]
    public void A_policy_may_keep_demotions_to_its_windows_too()
    {
        var fleet = new FleetSimulation(Policy("""
            windowDemotions: false
            windows: [ { days: [sat], from: "00:00", to: "24:00", timeZone: UTC } ]
            """));

        // Monday: outside the window, the failing job stays; Saturday 7 March it is demoted
        fleet.Minutes(["job-9"], 0, 5, Failing, startPhase: "b");
        Assert.Empty(fleet.Decisions);
        var saturday = Minute(new DateTimeOffset(2026, 3, 7, 0, 0, 0, TimeSpan.Zero));
        fleet.Signal("job-9", saturday, Failing);
        Assert.Equal(new DateTimeOffset(2026, 3, 7, 0, 0, 0, TimeSpan.Zero), Assert.Single(fleet.Decisions).DecidedAt);
    }

    [Fact]
    public void A_breaker_tripped_by_hand_stays_open_without_demotions_until_an_operator_resets_it()
    {
        // Given a gate (with no breaker rule of its own), its breaker tripped by an operator before any job qualifies
        var fleet = new FleetSimulation(Policy());
        fleet.Minutes(["job-1", "job-2"], 0, 5, Healthy);
        fleet.TripBreaker("gated", "b", 5.5);

        // When the jobs qualify and signal on for an hour
        fleet.Minutes(["job-1", "job-2"], 6, 66, Healthy);

        // Then the breaker opened once, saying who tripped it, and nobody went into b
        var opened = Assert.Single(fleet.Replay.BreakerChanges);
        Assert.True(opened.Opened);
        Assert.StartsWith("tripped by alice: migration target degraded", opened.Reason, StringComparison.Ordinal);
        Assert.Empty(fleet.Decisions);
        Assert.All(fleet.Deferrals, d => Assert.Equal(PromotionDeferred.Breaker, d.Cause));

        // When it is reset, the next signals promote them
        fleet.ResetBreaker("gated", "b", 66.5);
        fleet.Minutes(["job-1", "job-2"], 67, 67, Healthy);
        Assert.Equal([true, false], fleet.Replay.BreakerChanges.Select(c => c.Opened));
        Assert.Equal(2, fleet.Decisions.Count(d => d.To == "b"));
    }

    [Fact]
    public void The_same_log_gives_the_same_silences_pauses_and_decisions_every_time()
    {
        static FleetSimulation Run()
        {
            var fleet = new FleetSimulation(Policy("silence: 15m\nsilenceAction: demote\nwindows: [ { days: [mon-fri], from: \"09:00\", to: \"10:00\", timeZone: UTC } ]"));
            fleet.Minutes(["job-1", "job-2", "job-3"], 0, 12, Healthy);
            fleet.Pause(null, null, 12.5, TimeSpan.FromMinutes(10));
            fleet.Minutes(["job-1", "job-3"], 13, 80, Healthy);
            return fleet;
        }

        var first = Run();
        var second = Run();

        Assert.NotEmpty(first.Decisions);
        Assert.NotEmpty(Silenced(first));
        Assert.Equal(first.Decisions.Select(d => (d.JobId, d.From, d.To, d.DecidedAt, d.Reason)), second.Decisions.Select(d => (d.JobId, d.From, d.To, d.DecidedAt, d.Reason)));
        Assert.Equal(first.Deferrals.Select(d => (d.JobId, d.Cause, d.DecidedAt)), second.Deferrals.Select(d => (d.JobId, d.Cause, d.DecidedAt)));
        Assert.Equal(first.Replay.Appends.Select(a => (a.StreamId, a.Event.EventId)), second.Replay.Appends.Select(a => (a.StreamId, a.Event.EventId)));
    }
}
