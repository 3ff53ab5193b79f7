namespace Streaming.Contracts.PhaseChanges;

/// <summary>A decision that moves a job to another phase: the value of a <c>job-phase-changes</c> message (wire contract <c>phase-changed/v1</c>).</summary>
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
    long Version)
{
    public const string SchemaV1 = "phase-changed/v1";
}
