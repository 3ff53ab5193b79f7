namespace Streaming.Contracts.PhaseChanges;

/// <summary>
/// A decision that moves a job to another phase: the value of a <c>job-phase-changes</c> message (wire contract
/// <c>phase-changed/v1</c>). <see cref="CorrelationId"/> and <see cref="Criteria"/> were added within v1: null in
/// messages of decisions recorded before them, and ignored by consumers that do not know them.
/// </summary>
public sealed record PhaseChangedMessage(
    string Schema,
    Guid EventId,
    string JobId,
    string From,
    string To,
    string Direction,
    string Reason,
    DateTimeOffset DecidedAt,
    string Policy,
    long Version,
    string? CorrelationId = null,
    IReadOnlyList<PhaseChangeCriterion>? Criteria = null)
{
    public const string SchemaV1 = "phase-changed/v1";
}
