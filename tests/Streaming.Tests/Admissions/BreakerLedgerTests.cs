using Streaming.Lifecycle;
using Streaming.Lifecycle.Breakers;
using Streaming.Tests.Lifecycle;
using Streaming.Tests.Projections;
using Xunit;

namespace Streaming.Tests.Admissions;

/// <summary>The fleet's breakers in Owner mode as a pure fold of the breaker reports (<see cref="BreakerLedger"/>).</summary>
public sealed class BreakerLedgerTests
{
    static readonly BreakerRule Rule = new(0.25, TimeSpan.FromHours(1), 10);

    static Guid Id(int n) => new(n, 0, 0, new byte[8]);

    // Twelve jobs enter b, then four leave it demoted at minute 3: the breaker opens at the fourth.
    static List<BreakerChange?> Fold(BreakerLedger ledger)
    {
        List<BreakerChange?> changes = [];
        for (var i = 0; i < 12; i++)
        {
            ledger.Entered("fleet", "b", FleetSimulation.At(0));
        }
        for (var i = 0; i < 4; i++)
        {
            ledger.Left("fleet", "b", FleetSimulation.At(3));
            changes.Add(ledger.Demoted("fleet", "b", FleetSimulation.At(3), Rule, Id(i)));
        }
        return changes;
    }

    [Fact]
    public void Demotions_open_the_breaker_once_they_exceed_the_share_of_the_jobs_the_phase_held()
    {
        var ledger = new BreakerLedger();

        var changes = Fold(ledger);

        Assert.Equal([null, null, null], changes.Take(3));
        var opened = changes[3]!;
        Assert.Equal((true, 4, 8, FleetSimulation.At(3)), (opened.Opened, opened.Demotions, opened.Jobs, opened.At));
        Assert.Equal(Id(3), Assert.Single(ledger.Tally("fleet", "b").Unread));
    }

    [Fact]
    public void Fewer_jobs_than_minJobs_never_open_it()
    {
        var ledger = new BreakerLedger();
        for (var i = 0; i < 9; i++)
        {
            ledger.Entered("fleet", "b", FleetSimulation.At(0));
        }
        for (var i = 0; i < 8; i++)
        {
            ledger.Left("fleet", "b", FleetSimulation.At(3));
            Assert.Null(ledger.Demoted("fleet", "b", FleetSimulation.At(3), Rule, Id(i)));
        }
    }

    [Fact]
    public void A_waiting_job_closes_it_only_once_the_demotions_have_left_the_window()
    {
        var ledger = new BreakerLedger();
        Fold(ledger);

        Assert.False(ledger.Closes("fleet", "b", Rule, FleetSimulation.At(62)));
        Assert.Null(ledger.Waiting("fleet", "b", FleetSimulation.At(62), Rule, Id(10)));
        Assert.True(ledger.Closes("fleet", "b", Rule, FleetSimulation.At(63)));
        var closed = ledger.Waiting("fleet", "b", FleetSimulation.At(63), Rule, Id(11));

        Assert.Equal((false, FleetSimulation.At(63)), (closed!.Opened, closed.At));
        Assert.Null(ledger.Waiting("fleet", "b", FleetSimulation.At(64), Rule, Id(12)));
    }

    [Fact]
    public void A_trip_holds_it_open_whatever_the_counts_until_a_reset()
    {
        var ledger = new BreakerLedger();
        var tripped = ledger.Trip("fleet", "b", Rule, FleetSimulation.At(1), "tripped by alice", Id(1));

        Assert.True(tripped!.Opened);
        Assert.False(ledger.Closes("fleet", "b", Rule, FleetSimulation.At(500)));
        Assert.Null(ledger.Waiting("fleet", "b", FleetSimulation.At(500), Rule, Id(2)));
        Assert.False(ledger.Reset("fleet", "b", Rule, FleetSimulation.At(501), "reset by alice", Id(3))!.Opened);
        Assert.Null(ledger.Reset("fleet", "b", Rule, FleetSimulation.At(502), "reset by alice", Id(4)));
    }

    [Fact]
    public void A_recorded_change_the_ledger_did_not_make_is_taken_as_its_state()
    {
        var ledger = new BreakerLedger();
        Fold(ledger);

        // Its own change read back: nothing changes
        ledger.Recorded(Id(3), "fleet", "b", true, FleetSimulation.At(3));
        Assert.Equal(FleetSimulation.At(3), ledger.Tally("fleet", "b").OpenSince);
        Assert.Empty(ledger.Tally("fleet", "b").Unread);

        // A close it did not make (recorded before Owner mode, or by an owner it lagged): closed from here
        ledger.Recorded(Id(99), "fleet", "b", false, FleetSimulation.At(5));
        Assert.Null(ledger.Tally("fleet", "b").OpenSince);
        Assert.Null(ledger.Tally("fleet", "b").RecordedOpenSince);
    }

    [Fact]
    public void The_saved_ledger_goes_on_as_the_live_one()
    {
        var live = new BreakerLedger();
        Fold(live);
        live.Through = (41, 42);

        var saved = BreakerLedgerSnapshot.Read(BreakerLedgerSnapshot.Write(live));

        Assert.Equal((41L, 42L), saved.Through);
        Assert.Equal(live.Clock, saved.Clock);
        var closedLive = live.Waiting("fleet", "b", FleetSimulation.At(63), Rule, Id(11));
        var closedSaved = saved.Waiting("fleet", "b", FleetSimulation.At(63), Rule, Id(11));
        Assert.Equal(closedLive, closedSaved);
        Assert.Equal(live.Tally("fleet", "b").Unread.Order(), saved.Tally("fleet", "b").Unread.Order());
    }

    [Fact]
    public void A_fleet_that_switches_from_Local_mode_starts_from_its_own_counts_and_open_breakers()
    {
        // Given one Promoter's counts (Local mode): 12 jobs in b, 4 demoted out of it at minute 3, its breaker open
        var local = new FleetSimulation(FleetControlTests.Policy(breaker: "    breaker: { maxDemotionShare: 0.25, window: 1h, minJobs: 10 }"));
        local.Minutes([.. Enumerable.Range(1, 12).Select(i => $"b-{i}")], 0, 2, JobMetrics.Of(("error_rate", 0)), startPhase: "b");
        local.Minutes([.. Enumerable.Range(1, 4).Select(i => $"b-{i}")], 3, 3, JobMetrics.Of(("error_rate", 0.5)), startPhase: "b");
        Assert.True(Assert.Single(local.Replay.BreakerChanges).Opened);

        // When Owner mode starts from them
        var ledger = BreakerLedger.From(local.Replay.Engine.Fleet);

        // Then the ledger counts those jobs and demotions, holds the breaker open as recorded, and closes it as the rule says
        var tally = ledger.Tally("fleet", "b");
        Assert.Equal((8, 4, FleetSimulation.At(3), FleetSimulation.At(3)), (tally.Jobs, tally.Demotions.Count, tally.OpenSince, tally.RecordedOpenSince));
        Assert.Null(ledger.Waiting("fleet", "b", FleetSimulation.At(62), Rule, Id(1)));
        Assert.False(ledger.Waiting("fleet", "b", FleetSimulation.At(63), Rule, Id(2))!.Opened);
    }

    [Fact]
    public void A_job_that_leaves_uncounted_never_takes_the_count_below_zero()
    {
        var ledger = new BreakerLedger();
        ledger.Left("fleet", "b", FleetSimulation.At(1));
        ledger.Entered("fleet", "b", FleetSimulation.At(2));

        Assert.Equal(1, ledger.Tally("fleet", "b").Jobs);
    }
}
