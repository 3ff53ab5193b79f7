using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Lifecycle;

namespace Streaming.LifecycleEvents;

/// <summary>Turns stored events into the pure lifecycle core's inputs.</summary>
public static class SignalSamples
{
    public static SignalSample From(RecordedEvent recorded, SignalRecorded signal) =>
        new(recorded.Version, signal.Seq, signal.EmittedAt, signal.Phase, MetricValues.From(signal.Metrics));

    public static PhaseDecision ToDecision(PhaseChanged change) =>
        new(change.JobId,
            change.From,
            change.To,
            change.Direction,
            change.DecidedAt,
            change.DecidingVersion,
            change.Policy,
            change.Reason,
            change.Criteria.Select(c => new CriterionResult(
                c.Metric, Enum.Parse<Aggregation>(c.Aggregation, ignoreCase: true), Enum.Parse<Comparison>(c.Comparison, ignoreCase: true),
                c.Threshold, c.Value, c.Samples, Verdicts.Parse(c.Verdict, c.Passed))).ToList(),
            change.FirstVersion,
            change.LastVersion,
            change.Quarantined);

    public static PromotionDeferred ToDeferral(PhaseDecision promotion, PromotionWait wait) =>
        new(EventIds.ForDeferral(promotion.JobId, promotion.DecidingVersion),
            promotion.JobId,
            promotion.From,
            promotion.To,
            wait.BreakerOpen ? PromotionDeferred.Breaker : PromotionDeferred.Wave,
            wait.Describe(promotion.To),
            wait.Ahead,
            wait.InFlight,
            wait.MaxInFlight,
            wait.PromotedLastHour,
            wait.MaxPerHour,
            promotion.DecidedAt,
            promotion.Policy,
            promotion.DecidingVersion,
            promotion.FirstVersion,
            promotion.LastVersion,
            Outcomes(promotion.Criteria));

    public static PhaseChanged ToEvent(PhaseDecision decision) =>
        new(EventIds.ForDecision(decision.JobId, decision.DecidingVersion),
            decision.JobId,
            decision.From,
            decision.To,
            decision.Direction,
            decision.Reason,
            decision.DecidedAt,
            decision.Policy,
            decision.DecidingVersion,
            decision.FirstVersion,
            decision.LastVersion,
            Outcomes(decision.Criteria),
            decision.Quarantines);

    static List<CriterionOutcome> Outcomes(IEnumerable<CriterionResult> criteria) =>
        criteria.Select(c => new CriterionOutcome(
            c.Metric, c.Aggregation.ToString(), c.Comparison.ToString(), c.Threshold, c.Value, c.Samples, c.Passed,
            Verdicts.Name(c.Verdict))).ToList();
}
