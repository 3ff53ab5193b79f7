namespace Streaming.Lifecycle;

/// <summary>
/// A decision to move a job, with the values that justified it and the range of stream versions they came from.
/// <see cref="Quarantines"/>: this change is one too many within the policy's quarantine period, so the job is held after it.
/// </summary>
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
    long LastVersion,
    bool Quarantines)
{
    public const string Promote = "promote";
    public const string Demote = "demote";

    /// <summary>A change an operator's override made (its <see cref="Policy"/> is <see cref="OverridePolicy"/>).</summary>
    public const string Override = "override";

    public const string OverridePolicy = "override";
}
