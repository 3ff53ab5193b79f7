using Streaming.Contracts.History;
using Streaming.Lifecycle;
using Streaming.Lifecycle.Approvals;
using Streaming.LifecycleEvents;

namespace Streaming.Promoter.Approvals;

/// <summary>Turns the approval book's changes into the events recorded in the job's stream, and a recorded approval back into a grant.</summary>
public static class ApprovalEvents
{
    public static ApprovalRequested Requested(PendingApproval pending, PhaseDecision promotion) =>
        new(EventIds.ForApprovalRequest(promotion.JobId, promotion.DecidingVersion),
            promotion.JobId,
            promotion.From,
            promotion.To,
            promotion.Policy,
            promotion.DecidedAt,
            promotion.DecidingVersion,
            promotion.FirstVersion,
            promotion.LastVersion,
            $"the criteria of {promotion.From} → {promotion.To} pass; the gate needs an operator's approval. {promotion.Reason}",
            SignalSamples.Outcomes(promotion.Criteria));

    /// <summary>The request lapsed at the job's stream version <paramref name="version"/>; <paramref name="criteria"/> are the gate's values then.</summary>
    public static ApprovalLapsed Lapsed(PendingApproval pending, string why, IEnumerable<CriterionResult> criteria, DateTimeOffset at, long version) =>
        new(EventIds.ForApprovalLapse(pending.JobId, version),
            pending.JobId,
            pending.From,
            pending.To,
            pending.Policy,
            at,
            version,
            pending.Grant is not null,
            pending.Grant is { } grant ? $"{why}; the approval by {grant.Actor} lapsed with it" : why,
            SignalSamples.Outcomes(criteria));

    public static ApprovalGrant Grant(ApprovalGranted granted) =>
        new(granted.ApprovalId, granted.Actor, granted.Reason, granted.Scope, granted.GrantedAt);
}
