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

/// <summary>Several <see cref="Streaming.Promoter.Decisions.DecisionEngine"/>s in Owner mode, each over its share of the jobs, with an owner of the control partition.</summary>
public sealed class OwnerModeEngineTests
{
    static readonly IReadOnlyDictionary<string, double> Healthy = JobMetrics.Of(("error_rate", 0));

    static string[] Jobs(int count) => [.. Enumerable.Range(1, count).Select(i => $"job-{i}")];

    static void Run(OwnerModeFleet fleet, IReadOnlyList<string> jobs, int minutes, Random? lag = null, Action<int>? everyMinute = null)
    {
        for (var minute = 0; minute <= minutes; minute++)
        {
            foreach (var job in jobs)
            {
                fleet.Signal(job, minute, Healthy);
            }
            fleet.DeliverAll(lag);
            everyMinute?.Invoke(minute);
        }
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(2, 7)]
    [InlineData(3, 11)]
    public void Promoters_sharing_the_jobs_never_hold_more_than_the_waves_cap_in_flight_and_promote_only_with_a_grant(int promoters, int seed)
    {
        // Given a wave of 3 into b, and 20 healthy jobs shared by several Promoters that read the control partition at their own pace
        var fleet = new OwnerModeFleet(FleetControlTests.Policy(wave: "    wave: { maxInFlight: 3 }"), "b", promoters);
        var jobs = Jobs(20);

        // When the jobs signal once a minute for three hours
        Run(fleet, jobs, 180, new Random(seed));

        // Then every job reached b, each with a grant (the fleet throws otherwise), and never more than 3 were in flight at once
        Assert.All(jobs, job => Assert.Equal("b", fleet.PhaseOf(job)));
        Assert.Equal(20, fleet.Promotions.Count);
        Assert.InRange(fleet.MostInFlight, 1, 3);
        Assert.Equal(3, fleet.MostInFlight);
    }

    [Fact]
    public void A_waiting_job_is_deferred_once_with_cause_wave_and_asks_for_a_slot_once()
    {
        var fleet = new OwnerModeFleet(FleetControlTests.Policy(wave: "    wave: { maxInFlight: 1 }"), "b", 2);
        var jobs = Jobs(4);

        Run(fleet, jobs, 15);

        var requests = fleet.Control.Where(e => e.Type == AdmissionRequested.EventType).Select(e => ContractsJson.Deserialize<AdmissionRequested>(e.Data)).ToList();
        Assert.Equal(jobs, requests.Select(r => r.JobId).Order(StringComparer.Ordinal));
        Assert.All(requests, r => Assert.Equal(("fleet", "a", "b", FleetSimulation.At(10)), (r.Policy, r.From, r.To, r.RequestedAt)));
        Assert.Single(fleet.Control, e => e.Type == AdmissionGranted.EventType);
    }

    [Fact]
    public void An_owner_that_folds_the_control_partition_again_grants_the_same_slots_with_the_same_ids()
    {
        // Given two Promoters and an owner that has granted and seen releases for an hour
        var fleet = new OwnerModeFleet(FleetControlTests.Policy(wave: "    wave: { maxInFlight: 2 }"), "b", 2);
        var jobs = Jobs(10);
        Run(fleet, jobs, 60);
        var granted = fleet.Control.Count(e => e.Type == AdmissionGranted.EventType);
        Assert.True(granted >= 4, $"{granted} grants");

        // When a new owner starts (the last one killed, or paused and resumed) and folds the partition from its start
        fleet.StartOwner();
        fleet.DeliverAll();

        // Then it writes only copies of the grants already there, which the store refuses
        Assert.Equal(granted, fleet.Control.Count(e => e.Type == AdmissionGranted.EventType));
        Assert.True(fleet.RefusedCopies >= granted, $"{fleet.RefusedCopies} copies refused of {granted} grants");

        // And the fleet goes on within the cap
        Run(fleet, jobs, 180);
        Assert.All(jobs, job => Assert.Equal("b", fleet.PhaseOf(job)));
        Assert.Equal(2, fleet.MostInFlight);
    }

    [Fact]
    public void Two_owners_writing_at_once_grant_no_slot_more_than_one()
    {
        // Given an ex-owner that still writes beside its successor (paused past its session and resumed)
        var fleet = new OwnerModeFleet(FleetControlTests.Policy(wave: "    wave: { maxInFlight: 2 }"), "b", 2, owners: 2);
        var jobs = Jobs(12);

        Run(fleet, jobs, 200, new Random(3));

        Assert.All(jobs, job => Assert.Equal("b", fleet.PhaseOf(job)));
        Assert.InRange(fleet.MostInFlight, 1, 2);
        Assert.True(fleet.RefusedCopies > 0);
    }

    [Fact]
    public void A_backtest_of_a_history_recorded_by_several_Promoters_reproduces_their_decisions_and_the_owners_grants()
    {
        // Given a history recorded by two Promoters and an owner, a wave of 2
        var document = FleetControlTests.Policy(wave: "    wave: { maxInFlight: 2 }");
        var fleet = new OwnerModeFleet(document, "b", 2);
        var jobs = Jobs(8);
        Run(fleet, jobs, 120);
        Assert.Equal(8, fleet.Promotions.Count);

        // When it is backtested with the policy in force, the baseline in Owner mode
        var backtest = new Backtest(PolicyDocument.Parse(document, 1).Policy!, null, NullLogger.Instance, recordedAdmissions: AdmissionMode.Owner);
        backtest.Apply([.. fleet.Log.Select(EventDecoder.Decode)]);
        var report = backtest.Report(perJob: false);

        // Then the baseline makes the recorded decisions, and its fold of the recorded requests and releases the recorded grants
        Assert.True(report.BaselineReproducesRecord, $"{report.BaselineMismatches} decisions differ");
        Assert.Equal(8, report.RecordedGrants);
        Assert.True(report.BaselineReproducesGrants, $"{report.GrantMismatches} grants differ");
        // And the candidate, deciding as one Promoter, promotes the same jobs
        Assert.Equal(8, report.CandidateSide.Promotions);
    }
}
