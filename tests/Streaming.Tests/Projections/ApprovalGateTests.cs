using Streaming.Contracts.History;
using Streaming.Lifecycle;
using Streaming.Lifecycle.Approvals;
using Streaming.Tests.Lifecycle;
using Xunit;

namespace Streaming.Tests.Projections;

/// <summary>Approval gates over the Promoter's decision engine, driven by signals in event time.</summary>
public sealed class ApprovalGateTests
{
    static readonly IReadOnlyDictionary<string, double> Healthy = JobMetrics.Of(("error_rate", 0));
    static readonly IReadOnlyDictionary<string, double> Failing = JobMetrics.Of(("error_rate", 0.5));

    /// <summary>a → b after a 10-minute soak on a clean error rate, once approved; demoted from b at the first bad rate.</summary>
    static FleetSimulation Fleet() => new(FleetControlTests.Policy(wave: "    approval: required"));

    static IEnumerable<PhaseDecision> IntoB(FleetSimulation fleet) => fleet.Decisions.Where(d => d.To == "b" && d.Direction == PhaseDecision.Promote);

    [Fact]
    public void A_job_whose_criteria_pass_waits_for_approval_with_its_evidence_and_moves_at_its_next_signal_once_approved()
    {
        // Given a healthy job at a gate that needs approval
        var fleet = Fleet();

        // When it passes its criteria at the end of its soak and keeps signalling
        fleet.Minutes(["job-1"], 0, 20, Healthy);

        // Then it is not promoted, but asked about once, with the passing criteria as evidence
        Assert.Empty(fleet.Decisions);
        var request = Assert.Single(fleet.ApprovalRequests);
        Assert.Equal(("job-1", "a", "b", FleetSimulation.At(10), "fleet@1"), (request.JobId, request.From, request.To, request.RequestedAt, request.Policy));
        var evidence = Assert.Single(request.Criteria);
        Assert.Equal(("error_rate", "pass", 0.0), (evidence.Metric, evidence.Verdict, evidence.Value));
        Assert.Contains("needs an operator's approval", request.Reason, StringComparison.Ordinal);

        // When an operator approves it, its next signal promotes it, and the approval is used up
        fleet.Approve("job-1", 20.5, "a", "b");
        fleet.Signal("job-1", 21, Healthy);
        Assert.Equal([("job-1", FleetSimulation.At(21))], IntoB(fleet).Select(d => (d.JobId, d.DecidedAt)));
        Assert.Null(fleet.Replay.Engine.Approvals.Of("job-1"));
        Assert.Empty(fleet.ApprovalLapses);
    }

    [Fact]
    public void Approving_a_batch_moves_each_approved_job_and_leaves_the_others_waiting()
    {
        var fleet = Fleet();
        fleet.Minutes(["job-1", "job-2", "job-3"], 0, 12, Healthy);
        Assert.Equal(["job-1", "job-2", "job-3"], fleet.ApprovalRequests.Select(r => r.JobId));

        // When two of them are approved in one batch
        fleet.Approve("job-1", 12.5, "a", "b", "batch: label team=payments");
        fleet.Approve("job-2", 12.5, "a", "b", "batch: label team=payments");
        fleet.Minutes(["job-1", "job-2", "job-3"], 13, 20, Healthy);

        // Then those two move at their next signal and the third still waits
        Assert.Equal([("job-1", 13.0), ("job-2", 13.0)], IntoB(fleet).Select(d => (d.JobId, (d.DecidedAt - FleetSimulation.Start).TotalMinutes)));
        Assert.Equal("a", fleet.PhaseOf("job-3"));
        Assert.Null(fleet.Replay.Engine.Approvals.Of("job-3")!.Grant);
        Assert.Null(fleet.Replay.Engine.Approvals.Of("job-1"));
    }

    [Fact]
    public void An_approval_lapses_when_the_criteria_stop_holding_before_the_move_and_the_job_waits_again()
    {
        // Given a job waiting since minute 10, approved at 11.5
        var fleet = Fleet();
        fleet.Minutes(["job-1"], 0, 11, Healthy);
        fleet.Approve("job-1", 11.5, "a", "b");

        // When its next signal fails the gate's criteria
        fleet.Signal("job-1", 12, Failing);

        // Then it is not promoted: the request and its approval lapse, with the failing values
        Assert.Empty(fleet.Decisions);
        var lapse = Assert.Single(fleet.ApprovalLapses);
        Assert.Equal(("job-1", "a", "b", FleetSimulation.At(12), true), (lapse.JobId, lapse.From, lapse.To, lapse.LapsedAt, lapse.WasGranted));
        Assert.Contains(lapse.Criteria, c => c.Metric == "error_rate" && c.Verdict == "fail" && c.Value == 0.5);
        Assert.Contains("stopped holding", lapse.Reason, StringComparison.Ordinal);
        Assert.Contains("approval by alice lapsed", lapse.Reason, StringComparison.Ordinal);

        // When it is healthy again, once the bad value has left its window it is asked about anew, and waits: the old approval is gone
        fleet.Minutes(["job-1"], 13, 30, Healthy);
        Assert.Empty(fleet.Decisions);
        Assert.Equal(2, fleet.ApprovalRequests.Count);
        // (the window is the 10 minutes after now - 10m: at minute 22 the bad value of minute 12 is out)
        Assert.Equal(FleetSimulation.At(22), fleet.ApprovalRequests[1].RequestedAt);

        // And a new approval moves it
        fleet.Approve("job-1", 30.5, "a", "b");
        fleet.Signal("job-1", 31, Healthy);
        Assert.Equal([FleetSimulation.At(31)], IntoB(fleet).Select(d => d.DecidedAt));
    }

    [Fact]
    public void An_approval_permits_one_move_so_a_job_back_at_the_gate_needs_a_new_one()
    {
        // Given a job approved and promoted into b, then demoted back to a by its first bad signal there
        var fleet = Fleet();
        fleet.Minutes(["job-1"], 0, 10, Healthy);
        fleet.Approve("job-1", 10.5, "a", "b");
        fleet.Signal("job-1", 11, Healthy);
        fleet.Signal("job-1", 12, Failing);
        Assert.Equal([("a", "b", PhaseDecision.Promote), ("b", "a", PhaseDecision.Demote)], fleet.Decisions.Select(d => (d.From, d.To, d.Direction)));

        // When it passes a's criteria again
        fleet.Minutes(["job-1"], 13, 60, Healthy);

        // Then it waits for a new approval instead of reusing the one it moved with
        Assert.Single(IntoB(fleet));
        Assert.Equal(2, fleet.ApprovalRequests.Count);
        Assert.Null(fleet.Replay.Engine.Approvals.Of("job-1")!.Grant);
    }

    [Fact]
    public void An_approval_given_while_no_request_waits_changes_nothing()
    {
        var fleet = Fleet();
        fleet.Minutes(["job-1"], 0, 5, Healthy);

        // When an approval arrives before the job qualifies (or after its request lapsed)
        fleet.Approve("job-1", 5.5, "a", "b");
        fleet.Minutes(["job-1"], 6, 20, Healthy);

        // Then the job still waits, unapproved, once it qualifies
        Assert.Empty(fleet.Decisions);
        Assert.Null(fleet.Replay.Engine.Approvals.Of("job-1")!.Grant);
    }

    [Fact]
    public void A_gate_without_approval_promotes_as_before()
    {
        var fleet = new FleetSimulation(FleetControlTests.Policy());
        fleet.Minutes(["job-1"], 0, 12, Healthy);
        Assert.Single(IntoB(fleet));
        Assert.Empty(fleet.ApprovalRequests);
    }

    [Fact]
    public void The_waiting_jobs_and_their_approvals_survive_a_snapshot()
    {
        var fleet = Fleet();
        fleet.Minutes(["job-1", "job-2"], 0, 10, Healthy);
        fleet.Approve("job-2", 10.5, "a", "b", "batch: phase=a");

        var restored = ApprovalBookSnapshot.Read(ApprovalBookSnapshot.Write(fleet.Replay.Engine.Approvals));

        Assert.Equal(["job-1", "job-2"], restored.Pending.Keys);
        Assert.Null(restored.Of("job-1")!.Grant);
        Assert.Equal(("alice", "batch: phase=a"), (restored.Of("job-2")!.Grant!.Actor, restored.Of("job-2")!.Grant!.Scope));
        Assert.Equal(fleet.Replay.Engine.Approvals.Of("job-2"), restored.Of("job-2"));
    }

    [Theory]
    [InlineData("required", true)]
    [InlineData("none", false)]
    public void A_gate_says_whether_it_needs_approval(string rule, bool required)
    {
        var parsed = PolicyDocument.Parse(FleetControlTests.Policy(wave: $"    approval: {rule}"), 1);
        Assert.Equal(required, parsed.Policy!.GateFrom("a")!.ApprovalRequired);
    }

    [Fact]
    public void An_unknown_approval_rule_is_refused_naming_the_field()
    {
        var parsed = PolicyDocument.Parse(FleetControlTests.Policy(wave: "    approval: maybe"), 1);
        Assert.Null(parsed.Policy);
        Assert.Contains(parsed.Errors, e => e.ToString().Contains("gates[0].approval", StringComparison.Ordinal) && e.ToString().Contains("'maybe'", StringComparison.Ordinal));
    }
}
