namespace Streaming.Contracts.History;

/// <summary>
/// A decision that moved a job to another phase, as stored in its stream (event type <c>phase-changed/v1</c>), with
/// everything needed to explain it: the policy version, each criterion's value, threshold and verdict, and the range of
/// the job's stream versions they were computed from. <see cref="Quarantined"/>: the job is held after this change.
/// <see cref="CorrelationId"/>: the deciding signal's correlation id (also in the event's metadata; in the body since
/// it travels on the wire, null in events recorded before).
/// </summary>
public sealed record PhaseChanged(
    Guid EventId,
    string JobId,
    string From,
    string To,
    string Direction,
    string Reason,
    DateTimeOffset DecidedAt,
    string Policy,
    long DecidingVersion,
    long FirstVersion,
    long LastVersion,
    IReadOnlyList<CriterionOutcome> Criteria,
    bool Quarantined = false,
    string? CorrelationId = null)
{
    public const string EventType = "phase-changed/v1";
}
