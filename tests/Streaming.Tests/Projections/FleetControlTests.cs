using Streaming.Contracts.History;
using Streaming.Lifecycle;
using Streaming.Tests.Lifecycle;
using Xunit;

namespace Streaming.Tests.Projections;

/// <summary>Waves, the queue's order, circuit breakers and known issues, over many jobs in event time.</summary>
public sealed class FleetControlTests
{
    static readonly IReadOnlyDictionary<string, double> Healthy = JobMetrics.Of(("error_rate", 0));
    static readonly IReadOnlyDictionary<string, double> Failing = JobMetrics.Of(("error_rate", 0.5));

    /// <summary>a → b on a clean error rate over 10 minutes after a 10-minute soak (with a wave or breaker if given); b → c never.</summary>
    internal static string Policy(string wave = "", string breaker = "") => $$"""
        name: fleet
        phases: [a, b, c]
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
        {{wave}}
        {{breaker}}
          - from: b
            to: c
            soak: 10m
            promote:
              window: 10m
              criteria: [ { metric: approved, aggregation: count, comparison: ">=", threshold: 1 } ]
        """;

    static string[] Jobs(int count) => [.. Enumerable.Range(1, count).Select(i => $"job-{i}")];

    static IEnumerable<PhaseDecision> IntoB(FleetSimulation fleet) => fleet.Decisions.Where(d => d.To == "b" && d.Direction == PhaseDecision.Promote);

    [Fact]
    public void A_wave_lets_in_at_most_its_cap_of_unsoaked_jobs_first_come_then_by_job_id()
    {
        // Given five healthy jobs in a, and at most two jobs in flight into b
        var fleet = new FleetSimulation(Policy(wave: "    wave: { maxInFlight: 2 }"));

        // When they signal once a minute for an hour
        fleet.Minutes(Jobs(5), 0, 60, Healthy);

        // Then two go at the end of their soak (minute 10), the next two when those have soaked in b (11 + 10), then the last
        Assert.Equal(
            [("job-1", 10.0), ("job-2", 10.0), ("job-3", 21.0), ("job-4", 21.0), ("job-5", 32.0)],
            IntoB(fleet).Select(d => (d.JobId, (d.DecidedAt - FleetSimulation.Start).TotalMinutes)));
    }

    [Fact]
    public void A_job_that_must_wait_for_a_slot_is_told_once_why_with_the_wave_and_its_place()
    {
        var fleet = new FleetSimulation(Policy(wave: "    wave: { maxInFlight: 2 }"));

        fleet.Minutes(Jobs(5), 0, 20, Healthy);

        // The two admitted at once are not deferred; each of the others is, once, when it first qualifies
        Assert.Equal(
            [("job-3", 0), ("job-4", 1), ("job-5", 2)],
            fleet.Deferrals.Select(d => (d.JobId, d.Ahead)));
        Assert.All(fleet.Deferrals, d =>
        {
            Assert.Equal((PromotionDeferred.Wave, "a", "b", FleetSimulation.At(10), 2, (int?)2), (d.Cause, d.From, d.To, d.DecidedAt, d.InFlight, d.MaxInFlight));
            Assert.Contains("2 of 2 jobs promoted into it have not soaked yet", d.Reason, StringComparison.Ordinal);
            Assert.Equal("fleet@1", d.Policy);
            Assert.Contains(d.Criteria, c => c.Metric == "error_rate" && c.Verdict == "pass");
        });
    }

    [Fact]
    public void A_queued_job_that_stops_qualifying_leaves_the_queue_and_joins_anew_at_the_back_when_it_returns()
    {
        // Given a wave of one: job-1 goes at minute 10, job-2 and job-3 queue behind it
        var fleet = new FleetSimulation(Policy(wave: "    wave: { maxInFlight: 1 }"));
        fleet.Minutes(Jobs(3), 0, 10, Healthy);
        Assert.Equal(["job-2", "job-3"], fleet.Deferrals.Select(d => d.JobId));

        // When job-2 falls silent for longer than the queue waits for a job (15 minutes here)
        fleet.Minutes(["job-1", "job-3"], 11, 29, Healthy);

        // Then job-3 took the slot job-1 freed, and job-2 is no longer queued
        Assert.Equal(["job-1", "job-3"], IntoB(fleet).Select(d => d.JobId));
        Assert.DoesNotContain("job-2", fleet.Replay.Engine.Fleet.Traffic("fleet", "b").Queue.Keys);

        // When job-2 returns while job-3 is in flight, it queues again from that minute, and is told so again
        fleet.Minutes(Jobs(3), 30, 60, Healthy);
        var deferrals = fleet.Deferrals.Where(d => d.JobId == "job-2").ToList();
        Assert.Equal([FleetSimulation.At(10), FleetSimulation.At(30)], deferrals.Select(d => d.DecidedAt));
        Assert.Equal(["job-1", "job-3", "job-2"], IntoB(fleet).Select(d => d.JobId));
    }

    [Fact]
    public void Jobs_waiting_for_a_slot_go_by_priority_label_first()
    {
        var fleet = new FleetSimulation(Policy(wave: "    wave: { maxInFlight: 1 }"));

        fleet.Minutes(Jobs(3), 0, 40, Healthy, labels: new Dictionary<string, string>());
        var urgent = new FleetSimulation(Policy(wave: "    wave: { maxInFlight: 1 }"));
        for (var minute = 0; minute <= 40; minute++)
        {
            urgent.Signal("job-1", minute, Healthy);
            urgent.Signal("job-2", minute, Healthy);
            urgent.Signal("job-3", minute, Healthy, labels: new Dictionary<string, string> { ["priority"] = "5" });
        }

        // job-1 takes the free slot when it first passes (nobody waits yet); once it has soaked, the waiting jobs go by
        // priority, then by how long they waited, then by id
        Assert.Equal(["job-1", "job-2", "job-3"], IntoB(fleet).Select(d => d.JobId));
        Assert.Equal(["job-1", "job-3", "job-2"], IntoB(urgent).Select(d => d.JobId));
    }

    [Theory]
    [InlineData(1, 3)]
    [InlineData(2, 6)]
    [InlineData(10, 10)]
    public void A_wave_promotes_at_most_its_cap_per_hour(int perHour, int promotedInThreeHours)
    {
        var fleet = new FleetSimulation(Policy(wave: $"    wave: {{ maxPerHour: {perHour} }}"));

        fleet.Minutes(Jobs(10), 0, 10 + 179, Healthy);

        var times = IntoB(fleet).Select(d => d.DecidedAt).ToList();
        Assert.Equal(promotedInThreeHours, times.Count);
        Assert.All(times, t => Assert.True(times.Count(other => other > t.AddHours(-1) && other <= t) <= perHour));
    }

    [Fact]
    public void Too_many_demotions_out_of_a_phase_pause_promotions_into_it_until_the_rate_falls()
    {
        // Given eight jobs in b and four healthy jobs in a, with a breaker at 25% of b's jobs demoted within an hour
        var fleet = new FleetSimulation(Policy(breaker: "    breaker: { maxDemotionShare: 0.25, window: 1h, minJobs: 4 }"));
        var inB = Jobs(8);
        string[] inA = ["new-1", "new-2", "new-3", "new-4"];
        fleet.Minutes(inB, 0, 2, Healthy, startPhase: "b");

        // When three jobs of b fail (3 of 8 > 25%) at minute 3
        fleet.Minutes(inB.Take(3), 3, 3, Failing, startPhase: "b");

        // Then the breaker opens, with the counts, and the jobs in a are not promoted after their soak
        var opened = Assert.Single(fleet.Replay.BreakerChanges);
        Assert.Equal(("fleet", "b", true, 3, 8), (opened.Policy, opened.Phase, opened.Opened, opened.Demotions, opened.Jobs + opened.Demotions));
        fleet.Minutes(inA, 4, 30, Healthy);
        Assert.Empty(IntoB(fleet));
        Assert.Equal(inA, fleet.Deferrals.Select(d => d.JobId));
        Assert.All(fleet.Deferrals, d => Assert.Equal((PromotionDeferred.Breaker, "promotions into b are paused: its circuit breaker is open"), (d.Cause, d.Reason)));

        // When an hour has passed since the demotions
        fleet.Minutes(inA, 31, 64, Healthy);

        // Then the breaker closed by itself at the first promotion attempt once they were an hour old, and the jobs went
        var closed = fleet.Replay.BreakerChanges[^1];
        Assert.Equal((false, FleetSimulation.At(63)), (closed.Opened, closed.At));
        Assert.Equal(inA, IntoB(fleet).Select(d => d.JobId).Order());
    }

    [Fact]
    public void An_operator_can_close_an_open_breaker()
    {
        var fleet = new FleetSimulation(Policy(breaker: "    breaker: { maxDemotionShare: 0.25, window: 1h, minJobs: 4 }"));
        fleet.Minutes(Jobs(8), 0, 2, Healthy, startPhase: "b");
        fleet.Minutes(Jobs(3), 3, 3, Failing, startPhase: "b");
        fleet.Minutes(["new-1"], 4, 15, Healthy);
        Assert.Empty(IntoB(fleet));

        fleet.ResetBreaker("fleet", "b", 15.5);
        fleet.Signal("new-1", 16, Healthy);

        Assert.Equal([true, false], fleet.Replay.BreakerChanges.Select(c => c.Opened));
        Assert.StartsWith("reset by alice", fleet.Replay.BreakerChanges[^1].Reason, StringComparison.Ordinal);
        Assert.Equal(FleetSimulation.At(16), Assert.Single(IntoB(fleet)).DecidedAt);
    }

    [Fact]
    public void A_known_issue_holds_its_jobs_until_resolved_and_they_are_then_released_within_the_wave()
    {
        // Given four healthy jobs, three of them (two by name, one by label) linked to an open known issue
        var fleet = new FleetSimulation(Policy(wave: "    wave: { maxInFlight: 1 }"));
        fleet.OpenIssue("INC-7", 0, ["job-1", "job-2"], new Dictionary<string, string> { ["db"] = "legacy" });
        void Signals(int from, int to)
        {
            for (var minute = from; minute <= to; minute++)
            {
                fleet.Minutes(["job-1", "job-2", "job-4"], minute, minute, Healthy);
                fleet.Signal("job-3", minute, Healthy, labels: new Dictionary<string, string> { ["db"] = "legacy" });
            }
        }
        Signals(0, 40);

        // Then only the unlinked job was promoted
        Assert.Equal(["job-4"], IntoB(fleet).Select(d => d.JobId));

        // When the issue is resolved
        fleet.ResolveIssue("INC-7", 40.5);
        Signals(41, 80);

        // Then its jobs are promoted one at a time, as the wave allows
        Assert.Equal(["job-4", "job-1", "job-2", "job-3"], IntoB(fleet).Select(d => d.JobId));
        var times = IntoB(fleet).Skip(1).Select(d => (d.DecidedAt - FleetSimulation.Start).TotalMinutes).ToList();
        Assert.True(times[1] - times[0] >= 10 && times[2] - times[1] >= 10, string.Join(", ", times));
    }
}
