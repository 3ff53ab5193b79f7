using Streaming.Contracts.History;
using Streaming.Lifecycle;
using Streaming.Projections.Tail;

namespace Streaming.Promoter.Decisions;

// The engine's part in the gates (GateKeeper): operators' pauses and breaker trips from control streams, the watermark
// and silent jobs at every signal.
public sealed partial class DecisionEngine
{
    // The lists are the engine's own, cleared at each signal: Gated copies what they hold into the outcome.
    (List<StreamAppend> Appends, List<PhaseDecision> Demotions) Signalled(JobLifecycle state, LifecyclePolicy? policy, DateTimeOffset emittedAt)
    {
        _gatedAppends.Clear();
        _gatedDemotions.Clear();
        Gates.Signalled(state, policy, emittedAt, _named ??= policies.Named, _gatedAppends, _gatedDemotions);
        return (_gatedAppends, _gatedDemotions);
    }

    // What the watermark's advance decided, added to the outcome of the signal that moved it: other jobs' silence and
    // demotions (each counted towards its phase's breaker), pauses that ended.
    DecisionOutcome Gated(DecisionOutcome outcome, (List<StreamAppend> Appends, List<PhaseDecision> Demotions) gated)
    {
        if (gated.Appends.Count == 0 && gated.Demotions.Count == 0)
        {
            return outcome;
        }
        List<BreakerChange> breakers = [.. outcome.BreakerChanges];
        foreach (var demotion in gated.Demotions)
        {
            if (policies.Named(PolicyName(demotion.Policy)) is { } policy && policy.AdmissionGate(demotion.From) is { } admission
                && CountDemotion(demotion, admission, policy) is { } opened)
            {
                breakers.Add(opened);
            }
        }
        return new DecisionOutcome([.. outcome.Decisions, .. gated.Demotions.Select(d => new MadeDecision(d, null))], outcome.Deferrals,
            outcome.EndedOverrides, breakers, outcome.ApprovalRequests, outcome.ApprovalLapses, [.. outcome.Appends ?? [], .. gated.Appends]);
    }

    // A silent job's demotion, decided when the watermark passed its deadline, reaches its state at its next event.
    JobLifecycle Demoted(JobLifecycle state, PhaseDecision demotion)
    {
        if (!string.Equals(state.AssignedPhase, demotion.From, StringComparison.Ordinal))
        {
            return state;
        }
        var policy = state.Policy is { } name ? policies.Named(name) : null;
        var demoted = Followed(state, JobLifecycleDecider.Apply(state, demotion), policy);
        Gates.Silence.Changed(demoted);
        return demoted;
    }

    DecisionOutcome? ObserveGates(LogEvent logEvent)
    {
        switch (logEvent.Type)
        {
            case PromotionsPaused.EventType:
                var paused = logEvent.Read<PromotionsPaused>();
                Gates.Pauses.Start(paused.PauseId, paused.Policy, paused.Phase, paused.Actor, paused.Reason, paused.At, paused.For, Gates.Silence.Watermark);
                return DecisionOutcome.None;
            case PromotionsResumed.EventType:
                var resumed = logEvent.Read<PromotionsResumed>();
                Gates.Pauses.End(resumed.Policy, resumed.Phase, resumed.PauseId);
                return DecisionOutcome.None;
            case CircuitBreakerTripRequested.EventType:
                var trip = logEvent.Read<CircuitBreakerTripRequested>();
                var rule = policies.Named(trip.Policy)?.AdmissionGate(trip.Phase)?.Breaker;
                return Fleet.Trip(trip.Policy, trip.Phase, rule, Gates.Silence.Watermark ?? trip.At, $"tripped by {trip.Actor}: {trip.Reason}") is { } opened
                    ? DecisionOutcome.Of(breakerChanges: [opened])
                    : DecisionOutcome.None;
            default:
                return null;
        }
    }

    // A decision names its policy version ("cdc-migration@2").
    static string PolicyName(string id) => id.LastIndexOf('@') is var at and > 0 ? id[..at] : id;
}
