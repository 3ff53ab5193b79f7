namespace Streaming.Contracts.History;

/// <summary>
/// A request for approval (and the approval given for it, if <see cref="WasGranted"/>) no longer stands (event type
/// <c>approval-lapsed/v1</c>, in the job's stream): the gate's criteria stopped holding before the move, or the job left
/// <see cref="From"/>. <see cref="Criteria"/> are the gate's values at the signal that ended it. The job waits again, and
/// needs a new approval when it qualifies again.
/// </summary>
public sealed record ApprovalLapsed(
    Guid EventId,
    string JobId,
    string From,
    string To,
    string Policy,
    DateTimeOffset LapsedAt,
    long DecidingVersion,
    bool WasGranted,
    string Reason,
    IReadOnlyList<CriterionOutcome> Criteria)
{
    public const string EventType = "approval-lapsed/v1";
}
