namespace Streaming.Contracts.History;

/// <summary>
/// The job passed the criteria of a gate that needs a person's approval (event type <c>approval-requested/v1</c>, in the
/// job's stream, once each time it starts waiting): it stays in <see cref="From"/> until an operator approves the move to
/// <see cref="To"/>. <see cref="Criteria"/> is the passing evidence, computed over versions <see cref="FirstVersion"/> to
/// <see cref="LastVersion"/> at the deciding signal.
/// </summary>
public sealed record ApprovalRequested(
    Guid EventId,
    string JobId,
    string From,
    string To,
    string Policy,
    DateTimeOffset RequestedAt,
    long DecidingVersion,
    long FirstVersion,
    long LastVersion,
    string Reason,
    IReadOnlyList<CriterionOutcome> Criteria)
{
    public const string EventType = "approval-requested/v1";
}
