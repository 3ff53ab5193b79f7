using Streaming.Contracts.History;
using Streaming.Lifecycle;

namespace Streaming.Promoter.Decisions;

/// <summary>
/// What the <see cref="DecisionEngine"/> decided at one event, for the caller to record: phase changes, promotions that
/// wait for a slot (each with why), overrides that ended, circuit breakers that opened or closed, requests for approval
/// that began or lapsed, other events to record (<see cref="Appends"/>: jobs that turned silent, pauses that ended). Most events decide
/// nothing: <see cref="None"/>.
/// </summary>
public sealed record DecisionOutcome(
    IReadOnlyList<MadeDecision> Decisions,
    IReadOnlyList<PromotionDeferred> Deferrals,
    IReadOnlyList<OverrideEnded> EndedOverrides,
    IReadOnlyList<BreakerChange> BreakerChanges,
    IReadOnlyList<ApprovalRequested>? ApprovalRequests = null,
    IReadOnlyList<ApprovalLapsed>? ApprovalLapses = null,
    IReadOnlyList<StreamAppend>? Appends = null)
{
    public static readonly DecisionOutcome None = new([], [], [], []);

    public bool IsEmpty => Decisions.Count == 0 && Deferrals.Count == 0 && EndedOverrides.Count == 0 && BreakerChanges.Count == 0
        && (ApprovalRequests?.Count ?? 0) == 0 && (ApprovalLapses?.Count ?? 0) == 0 && (Appends?.Count ?? 0) == 0;

    /// <summary>The outcome holding what was given, or <see cref="None"/> when nothing was.</summary>
    public static DecisionOutcome Of(
        MadeDecision? decision = null,
        PromotionDeferred? deferral = null,
        IReadOnlyList<OverrideEnded>? ended = null,
        IReadOnlyList<BreakerChange>? breakerChanges = null,
        ApprovalRequested? approvalRequested = null,
        ApprovalLapsed? approvalLapsed = null) =>
        decision is null && deferral is null && (ended is null || ended.Count == 0) && (breakerChanges is null || breakerChanges.Count == 0)
            && approvalRequested is null && approvalLapsed is null
            ? None
            : new DecisionOutcome(decision is null ? [] : [decision], deferral is null ? [] : [deferral], ended ?? [], breakerChanges ?? [],
                approvalRequested is null ? null : [approvalRequested], approvalLapsed is null ? null : [approvalLapsed]);
}
