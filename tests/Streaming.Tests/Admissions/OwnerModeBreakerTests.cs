using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Lifecycle;
using Streaming.Projections.Tail;
using Streaming.Promoter.Backtesting;
using Streaming.Promoter.Decisions;
using Streaming.Tests.Lifecycle;
using Streaming.Tests.Projections;
using Xunit;

namespace Streaming.Tests.Admissions;

/// <summary>
/// Circuit breakers counted fleet-wide in Owner mode: several <see cref="DecisionEngine"/>s, each over its share of the
/// jobs, report to the control partition, and its owner opens and closes each breaker on the whole fleet's counts.
/// </summary>
public sealed class OwnerModeBreakerTests
{
    static readonly IReadOnlyDictionary<string, double> Healthy = JobMetrics.Of(("error_rate", 0));
    static readonly IReadOnlyDictionary<string, double> Failing = JobMetrics.Of(("error_rate", 0.5));

    // A share of the three Promoters holds 4 of b's 12 jobs: fewer than minJobs, so no share alone can open the breaker.
    static readonly string Policy = FleetControlTests.Policy(breaker: "    breaker: { maxDemotionShare: 0.25, window: 1h, minJobs: 10 }");

    static readonly string[] InB = [.. Enumerable.Range(1, 12).Select(i => $"b-{i}")];
    static readonly string[] InA = ["a-1", "a-2", "a-3", "a-4"];

    // Four of b's jobs fail at minute 3, taken from the shares in turn: 4 demotions of the 12 jobs b held (> 25%).
    static string[] Failed(Func<string, int> shareOf) =>
        [.. InB.GroupBy(shareOf).SelectMany(share => share.Select((job, i) => (job, i))).OrderBy(p => p.i).ThenBy(p => shareOf(p.job)).Take(4).Select(p => p.job)];

    static void Minute(OwnerModeFleet fleet, IEnumerable<string> jobs, int minute, IReadOnlyDictionary<string, double> metrics, string startPhase, Random? lag = null)
    {
        foreach (var job in jobs)
        {
            fleet.Signal(job, minute, metrics, startPhase);
        }
        fleet.DeliverAll(lag);
    }

    // b's twelve jobs report b for three minutes, four of them fail at minute 3, and a's four healthy jobs signal from minute 4 to `until`.
    static OwnerModeFleet Demotions(int promoters, int until, Random? lag = null)
    {
        var fleet = new OwnerModeFleet(Policy, "b", promoters);
        for (var minute = 0; minute <= 2; minute++)
        {
            Minute(fleet, InB, minute, Healthy, "b", lag);
        }
        Minute(fleet, Failed(fleet.ShareOf), 3, Failing, "b", lag);
        for (var minute = 4; minute <= until; minute++)
        {
            Minute(fleet, InA, minute, Healthy, "a", lag);
        }
        return fleet;
    }

    [Fact]
    public void Demotions_spread_over_the_Promoters_open_the_breaker_fleet_wide_though_no_share_counts_enough_alone()
    {
        // Given three Promoters, each holding 4 of b's 12 jobs (fewer than the breaker's minJobs of 10)
        var fleet = Demotions(3, 30);
        Assert.All(InB.GroupBy(fleet.ShareOf), share => Assert.InRange(share.Count(), 1, 9));
        Assert.True(Failed(fleet.ShareOf).Select(fleet.ShareOf).Distinct().Count() == 3, "the failures are spread over the three shares");

        // Then the owner opened b's breaker at minute 3 on the fleet's counts: 4 demotions of the 12 jobs b held
        var opened = Assert.Single(fleet.BreakerChanges);
        Assert.Equal(("fleet", "b", CircuitBreakerChanged.Open, 4, 8, FleetSimulation.At(3)), (opened.Policy, opened.Phase, opened.State, opened.Demotions, opened.Jobs, opened.At));

        // And every Promoter holds a's jobs out of b, each told once why
        Assert.DoesNotContain(fleet.Decisions, d => d.Direction == PhaseDecision.Promote && d.To == "b");
        Assert.Equal(InA, fleet.Deferrals.Select(d => d.JobId).Order(StringComparer.Ordinal));
        Assert.All(fleet.Deferrals, d => Assert.Equal(PromotionDeferred.Breaker, d.Cause));
        Assert.True(InA.Select(fleet.ShareOf).Distinct().Count() >= 2, "a's jobs are held by more than one Promoter");
    }

    [Fact]
    public void Each_Promoter_counting_only_its_own_share_would_not_have_opened_it()
    {
        // Given the same history, each share decided by a Promoter of its own in Local mode (per-share counting)
        var owner = new OwnerModeFleet(Policy, "b", 3);
        var shares = Enumerable.Range(0, 3).Select(_ => new FleetSimulation(Policy)).ToArray();
        var one = new FleetSimulation(Policy);
        void Signal(string job, int minute, IReadOnlyDictionary<string, double> metrics, string startPhase)
        {
            shares[owner.ShareOf(job)].Signal(job, minute, metrics, startPhase);
            one.Signal(job, minute, metrics, startPhase);
        }
        for (var minute = 0; minute <= 2; minute++)
        {
            Array.ForEach(InB, job => Signal(job, minute, Healthy, "b"));
        }
        Array.ForEach(Failed(owner.ShareOf), job => Signal(job, 3, Failing, "b"));
        for (var minute = 4; minute <= 30; minute++)
        {
            Array.ForEach(InA, job => Signal(job, minute, Healthy, "a"));
        }

        // Then no share's breaker opened, and a's jobs went into b after their soak
        Assert.All(shares, share => Assert.Empty(share.Replay.BreakerChanges));
        Assert.Equal(InA.Length, shares.Sum(share => share.Decisions.Count(d => d.Direction == PhaseDecision.Promote && d.To == "b")));
        // While one Promoter over the whole fleet opens it as the owner does, with the same counts
        var opened = Assert.Single(one.Replay.BreakerChanges);
        Assert.Equal((true, 4, 8, FleetSimulation.At(3)), (opened.Opened, opened.Demotions, opened.Jobs, opened.At));
    }

    [Fact]
    public void The_breaker_closes_once_the_demotions_have_aged_out_of_its_window_and_the_held_jobs_go_in()
    {
        // Given the breaker opened fleet-wide at minute 3 by demotions spread over three Promoters
        var fleet = Demotions(3, 70);

        // Then a held job's report at minute 63 (the demotions an hour old) let the owner close it then
        Assert.Equal([CircuitBreakerChanged.Open, CircuitBreakerChanged.Closed], fleet.BreakerChanges.Select(c => c.State));
        var closed = fleet.BreakerChanges[^1];
        Assert.Equal((FleetSimulation.At(63), 0, "the demotion rate fell back"), (closed.At, closed.Demotions, closed.Reason));
        var waiting = fleet.Control.Where(e => e.Type == BreakerCountReported.EventType).Select(e => ContractsJson.Deserialize<BreakerCountReported>(e.Data))
            .Where(r => r.Kind == BreakerCountReported.Waiting).ToList();
        Assert.InRange(waiting.Count, 1, 3);
        Assert.All(waiting, r => Assert.Equal(FleetSimulation.At(63), r.At));

        // And a's jobs went into b at their next signal, once their Promoters had read the change
        var promoted = fleet.Decisions.Where(d => d.Direction == PhaseDecision.Promote && d.To == "b").ToList();
        Assert.Equal(InA, promoted.Select(d => d.JobId).Order(StringComparer.Ordinal));
        Assert.All(promoted, d => Assert.Equal(FleetSimulation.At(64), d.DecidedAt));
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(3, 7)]
    [InlineData(3, 11)]
    public void Promoters_reading_the_control_partition_at_their_own_pace_hold_by_the_same_fleet_wide_breaker(int promoters, int seed)
    {
        // Given Promoters and an owner that each read the control partition at their own pace (some lag a round)
        var fleet = Demotions(promoters, 80, new Random(seed));

        // Then the owner opened the breaker on the fleet's counts at the fourth demotion's time, whenever it read them,
        // and closed it once they had aged, at a held job's report
        Assert.Equal([CircuitBreakerChanged.Open, CircuitBreakerChanged.Closed], fleet.BreakerChanges.Select(c => c.State));
        Assert.Equal((4, 8, FleetSimulation.At(3)), (fleet.BreakerChanges[0].Demotions, fleet.BreakerChanges[0].Jobs, fleet.BreakerChanges[0].At));
        Assert.InRange(fleet.BreakerChanges[1].At, FleetSimulation.At(63), FleetSimulation.At(66));

        // And no job went into b while it was open, and every held job went in after it closed
        var promoted = fleet.Decisions.Where(d => d.Direction == PhaseDecision.Promote && d.To == "b").ToList();
        Assert.Equal(InA, promoted.Select(d => d.JobId).Order(StringComparer.Ordinal));
        Assert.All(promoted, d => Assert.True(d.DecidedAt > fleet.BreakerChanges[1].At, $"{d.JobId} promoted at {d.DecidedAt:u}"));
    }

    [Fact]
    public void Jobs_entering_and_leaving_the_phase_are_reported_once_each_and_counted_by_the_owner()
    {
        var fleet = Demotions(3, 5);

        var reports = fleet.Control.Where(e => e.Type == BreakerCountReported.EventType).Select(e => ContractsJson.Deserialize<BreakerCountReported>(e.Data)).ToList();
        Assert.Equal(12, reports.Count(r => r.Kind == BreakerCountReported.Entered));
        Assert.Equal(4, reports.Count(r => r.Kind == BreakerCountReported.Left));
        Assert.Equal(4, reports.Count(r => r.Kind == BreakerCountReported.Demoted));
        Assert.All(reports, r => Assert.Equal(("fleet", "b"), (r.Policy, r.Phase)));
        Assert.Equal(reports.Count, reports.Select(r => r.EventId).Distinct().Count());
    }

    [Fact]
    public void An_owner_that_folds_the_control_partition_again_writes_only_copies_of_the_breaker_changes()
    {
        // Given a breaker opened and closed by the owner
        var fleet = Demotions(3, 70);
        Assert.Equal(2, fleet.BreakerChanges.Count);
        var refused = fleet.RefusedCopies;

        // When a new owner starts (the last one killed, or paused and resumed) and folds the partition from its start
        fleet.StartOwner();
        fleet.DeliverAll();

        // Then it writes only copies of the changes already there, which the store refuses
        Assert.Equal(2, fleet.BreakerChanges.Count);
        Assert.Equal(refused + 2, fleet.RefusedCopies);

        // And both owners, reading on, open the breaker once more (one change, the other's copy refused) when the fleet's
        // demotions exceed its share again: 4 of the 12 jobs b holds now
        var inB = InB.Except(Failed(fleet.ShareOf)).Concat(InA).ToArray();
        Minute(fleet, inB, 80, Healthy, "b");
        Minute(fleet, inB.Take(4), 81, Failing, "b");
        Assert.Equal(3, fleet.BreakerChanges.Count);
        Assert.Equal((CircuitBreakerChanged.Open, 4, 8), (fleet.BreakerChanges[^1].State, fleet.BreakerChanges[^1].Demotions, fleet.BreakerChanges[^1].Jobs));
        Assert.Equal(refused + 3, fleet.RefusedCopies);
    }

    [Fact]
    public void An_operators_trip_holds_every_Promoters_jobs_until_a_reset_and_a_waiting_job_does_not_close_it()
    {
        // Given two Promoters and a breaker tripped by hand before a's jobs have soaked
        var fleet = new OwnerModeFleet(Policy, "b", 2);
        for (var minute = 0; minute <= 90; minute++)
        {
            if (minute == 5)
            {
                fleet.TripBreaker("fleet", "b", 5);
            }
            if (minute == 90)
            {
                fleet.ResetBreaker("fleet", "b", 89.5);
            }
            Minute(fleet, InA, minute, Healthy, "a");
        }

        // Then the owner recorded it open, then closed by the reset, and no job went in between
        Assert.Equal([CircuitBreakerChanged.Open, CircuitBreakerChanged.Closed], fleet.BreakerChanges.Select(c => c.State));
        Assert.StartsWith("tripped by alice", fleet.BreakerChanges[0].Reason, StringComparison.Ordinal);
        Assert.StartsWith("reset by alice", fleet.BreakerChanges[1].Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(fleet.Control, e => e.Type == BreakerCountReported.EventType);
        var promoted = fleet.Decisions.Where(d => d.Direction == PhaseDecision.Promote && d.To == "b").ToList();
        Assert.DoesNotContain(promoted, d => d.DecidedAt <= FleetSimulation.At(90));
        Assert.Equal(InA.Length, fleet.Deferrals.Count(d => d.Cause == PromotionDeferred.Breaker));

        // And they go in once their Promoters have read the reset
        Minute(fleet, InA, 91, Healthy, "a");
        Assert.Equal(InA, fleet.Decisions.Where(d => d.Direction == PhaseDecision.Promote && d.To == "b").Select(d => d.JobId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_backtest_of_a_history_recorded_by_several_Promoters_reproduces_their_decisions_and_the_owners_breaker_changes()
    {
        // Given a history recorded by three Promoters and an owner: the breaker opened fleet-wide and closed again
        var fleet = Demotions(3, 70);
        Assert.Equal(2, fleet.BreakerChanges.Count);

        // When it is backtested with the policy in force, the baseline in Owner mode
        var backtest = new Backtest(PolicyDocument.Parse(Policy, 1).Policy!, null, NullLogger.Instance, recordedAdmissions: AdmissionMode.Owner);
        backtest.Apply([.. fleet.Log.Select(EventDecoder.Decode)]);
        var report = backtest.Report(perJob: false);

        // Then the baseline makes the recorded decisions and holds, and its fold of the recorded reports the recorded breaker changes
        Assert.True(report.BaselineReproducesRecord, $"{report.BaselineMismatches} decisions differ");
        Assert.True(report.BaselineReproducesDeferrals, $"{report.DeferralMismatches} holds differ");
        Assert.Equal(2, report.RecordedBreakerChanges);
        Assert.True(report.BaselineReproducesBreakerChanges, $"{report.BreakerChangeMismatches} breaker changes differ");
        Assert.Equal(InA.Length, report.Baseline.Promotions);
        Assert.Equal(4, report.Baseline.Demotions);
    }
}
