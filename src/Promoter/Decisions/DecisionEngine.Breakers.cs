using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.Lifecycle.Breakers;
using Streaming.Projections.Tail;

namespace Streaming.Promoter.Decisions;

// The engine's part in fleet-wide circuit breakers in Owner mode (AdmissionMode.Owner): a job's Promoter reports what the
// breaker rule counts (the job entering or leaving a phase with a breaker, a demotion out of it, a promotion into it held
// by its open breaker) to the breaker streams of the control partition; the ledger folded from them (BreakerLedger) opens
// and closes breakers on the fleet's counts, and only the owner of the control partition records its changes
// (DecisionFold.OwnsControl). Every Promoter holds promotions by the recorded changes it has read.
public sealed partial class DecisionEngine
{
    // Breakers this engine reported a waiting job for and has not read a report or change of since: no second one meanwhile.
    readonly HashSet<string> _waitingReported = new(StringComparer.Ordinal);

    /// <summary>The fleet's breakers in <see cref="AdmissionMode.Owner"/> mode, as the breaker streams stand.</summary>
    public BreakerLedger Breakers { get; set; } = new();

    /// <summary>
    /// A new run's start: the ledger as saved with the control partition's checkpoint, and the fleet's breakers as the
    /// changes recorded up to there say (not the shared fleet row's, which any Promoter may have saved at another point).
    /// </summary>
    public void ResumeBreakers(BreakerLedger ledger)
    {
        Breakers = ledger;
        _waitingReported.Clear();
        foreach (var traffic in Fleet.Phases.Values)
        {
            traffic.BreakerOpenSince = null;
            traffic.Tripped = false;
        }
        foreach (var tally in ledger.Breakers.Values)
        {
            Fleet.Traffic(tally.Policy, tally.Phase).BreakerOpenSince = tally.RecordedOpenSince;
        }
    }

    DecisionOutcome? ObserveBreakers(LogEvent logEvent)
    {
        if (Admissions != AdmissionMode.Owner
            || logEvent.Type is not (BreakerCountReported.EventType or CircuitBreakerChanged.EventType or CircuitBreakerTripRequested.EventType
                or CircuitBreakerResetRequested.EventType))
        {
            return null;
        }
        var position = logEvent.Position;
        if ((position.Commit, position.GlobalPosition).CompareTo(Breakers.Through) <= 0)
        {
            // Folded already: the ledger was saved past where this run resumed the control partition.
            return DecisionOutcome.None;
        }
        Breakers.Through = (position.Commit, position.GlobalPosition);
        if (logEvent.Type == CircuitBreakerChanged.EventType)
        {
            Honour(logEvent.Event.EventId, logEvent.Read<CircuitBreakerChanged>());
            return DecisionOutcome.None;
        }
        var changeId = EventIds.ForOwnedBreakerChange(logEvent.Event.EventId);
        var change = logEvent.Type switch
        {
            BreakerCountReported.EventType => Count(logEvent.Read<BreakerCountReported>(), changeId),
            CircuitBreakerTripRequested.EventType => Trip(logEvent.Read<CircuitBreakerTripRequested>(), changeId),
            _ => Reset(logEvent.Read<CircuitBreakerResetRequested>(), changeId),
        };
        return change is null
            ? DecisionOutcome.None
            : new DecisionOutcome([], [], [], [], Appends: [BreakerEvent(change, changeId)]);
    }

    BreakerChange? Count(BreakerCountReported report, Guid changeId)
    {
        switch (report.Kind)
        {
            case BreakerCountReported.Entered:
                Breakers.Entered(report.Policy, report.Phase, report.At);
                return null;
            case BreakerCountReported.Left:
                Breakers.Left(report.Policy, report.Phase, report.At);
                return null;
            case BreakerCountReported.Demoted:
                return Breakers.Demoted(report.Policy, report.Phase, report.At, BreakerOf(report.Policy, report.Phase), changeId);
            case BreakerCountReported.Waiting:
                _waitingReported.Remove(FleetControl.Key(report.Policy, report.Phase));
                return Breakers.Waiting(report.Policy, report.Phase, report.At, BreakerOf(report.Policy, report.Phase), changeId);
            default:
                return null;
        }
    }

    // An operator's trip opens the breaker at the latest event time the ledger has folded (one Promoter: the watermark).
    BreakerChange? Trip(CircuitBreakerTripRequested trip, Guid changeId) =>
        Breakers.Trip(trip.Policy, trip.Phase, BreakerOf(trip.Policy, trip.Phase), Breakers.Clock ?? trip.At, $"tripped by {trip.Actor}: {trip.Reason}", changeId);

    BreakerChange? Reset(CircuitBreakerResetRequested reset, Guid changeId) =>
        Breakers.Reset(reset.Policy, reset.Phase, BreakerOf(reset.Policy, reset.Phase), reset.At, $"reset by {reset.Actor}: {reset.Reason}", changeId);

    // A recorded change holds (or frees) promotions into the phase from here, whoever recorded it.
    void Honour(Guid eventId, CircuitBreakerChanged changed)
    {
        var opened = changed.State == CircuitBreakerChanged.Open;
        Breakers.Recorded(eventId, changed.Policy, changed.Phase, opened, changed.At);
        var traffic = Fleet.Traffic(changed.Policy, changed.Phase);
        traffic.BreakerOpenSince = opened ? traffic.BreakerOpenSince ?? changed.At : null;
        _waitingReported.Remove(FleetControl.Key(changed.Policy, changed.Phase));
    }

    BreakerRule? BreakerOf(string policy, string phase) => policies.Named(policy)?.AdmissionGate(phase)?.Breaker;

    // After every change of a job's state (Owner mode): a move into or out of a phase with a breaker is reported.
    void ReportMove(JobLifecycle before, JobLifecycle after)
    {
        if (before.Policy == after.Policy && before.AssignedPhase == after.AssignedPhase)
        {
            return;
        }
        var at = after.LastSignalAt ?? after.AssignedAt ?? before.LastSignalAt ?? DateTimeOffset.UnixEpoch;
        if (before is { Policy: { } oldPolicy, AssignedPhase: { } oldPhase } && BreakerOf(oldPolicy, oldPhase) is not null)
        {
            Report(BreakerCountReported.Left, after.JobId, oldPolicy, oldPhase, after.LastVersion, after.PhaseChanges, at);
        }
        if (after is { Policy: { } newPolicy, AssignedPhase: { } newPhase } && BreakerOf(newPolicy, newPhase) is not null)
        {
            Report(BreakerCountReported.Entered, after.JobId, newPolicy, newPhase, after.LastVersion, after.PhaseChanges, at);
        }
    }

    // A demotion out of the phase the job was admitted to: counted by the phase's breaker, here (Local) or by the ledger (Owner).
    BreakerChange? CountDemotion(PhaseDecision demotion, PhaseGate admission, LifecyclePolicy policy)
    {
        if (Admissions != AdmissionMode.Owner)
        {
            return Fleet.Demoted(demotion, admission, policy);
        }
        if (admission.Breaker is not null)
        {
            Report(BreakerCountReported.Demoted, demotion.JobId, policy.Name, admission.To, demotion.DecidingVersion, 0, demotion.DecidedAt);
        }
        return null;
    }

    // A promotion the open breaker holds: reported once the ledger, as this engine has read it, would close the breaker
    // then, since only the reports in the breaker streams move the owner's fold in time.
    void ReportWaiting(PhaseDecision promotion, PhaseGate gate, LifecyclePolicy policy)
    {
        if (gate.Breaker is { } rule && Fleet.Traffic(policy.Name, gate.To).BreakerOpenSince is not null
            && Breakers.Closes(policy.Name, gate.To, rule, promotion.DecidedAt) && _waitingReported.Add(FleetControl.Key(policy.Name, gate.To)))
        {
            Report(BreakerCountReported.Waiting, promotion.JobId, policy.Name, gate.To, promotion.DecidingVersion, 0, promotion.DecidedAt);
        }
    }

    void Report(string kind, string jobId, string policy, string phase, long jobVersion, int phaseChanges, DateTimeOffset at)
    {
        var report = new BreakerCountReported(EventIds.ForBreakerCount(kind, policy, phase, jobId, jobVersion, phaseChanges), jobId, policy, phase, kind, jobVersion, at);
        _controlAppends.Add(new StreamAppend(BreakerCountReported.StreamFor(policy, phase),
            ControlEvent(report.EventId, BreakerCountReported.EventType, ContractsJson.Serialize(report), at)));
    }

    /// <summary>A breaker change as the event <c>circuit-breaker-changed/v1</c> in its breaker's stream, with the id given.</summary>
    internal static StreamAppend BreakerEvent(BreakerChange change, Guid eventId)
    {
        var changed = new CircuitBreakerChanged(eventId, change.Policy, change.Phase, change.Opened ? CircuitBreakerChanged.Open : CircuitBreakerChanged.Closed,
            change.Demotions, change.Jobs, change.MaxDemotionShare, change.Window, change.At, change.Reason);
        return new StreamAppend(CircuitBreakerChanged.StreamFor(change.Policy, change.Phase),
            ControlEvent(eventId, CircuitBreakerChanged.EventType, ContractsJson.Serialize(changed), change.At));
    }
}
