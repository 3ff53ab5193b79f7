namespace Streaming.Contracts.History;

/// <summary>A decision that moved a job to another phase, as stored in its stream (event type <c>phase-changed/v1</c>), with everything needed to explain it.</summary>
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
    IReadOnlyList<CriterionOutcome> Criteria)
{
    public const string EventType = "phase-changed/v1";
}
