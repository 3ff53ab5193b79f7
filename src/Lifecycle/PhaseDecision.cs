namespace Streaming.Lifecycle;

/// <summary>A decision to move a job, with the values that justified it and the stream versions they came from.</summary>
public sealed record PhaseDecision(
    string JobId,
    string From,
    string To,
    string Direction,
    DateTimeOffset DecidedAt,
    long DecidingVersion,
    string Policy,
    string Reason,
    IReadOnlyList<CriterionResult> Criteria,
    long FirstVersion,
    long LastVersion)
{
    public const string Promote = "promote";
    public const string Demote = "demote";
}
