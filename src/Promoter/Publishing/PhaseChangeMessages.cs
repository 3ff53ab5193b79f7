using Streaming.Contracts.History;
using Streaming.Contracts.PhaseChanges;
using Streaming.Lifecycle;

namespace Streaming.Promoter.Publishing;

/// <summary>The wire message of a recorded phase change.</summary>
public static class PhaseChangeMessages
{
    /// <summary>
    /// The message of <paramref name="change"/>, recorded as version <paramref name="version"/> of its job's stream. A change
    /// recorded before its body carried the correlation id goes out without one (the tail does not read metadata).
    /// </summary>
    public static PhaseChangedMessage Of(PhaseChanged change, long version) =>
        new(PhaseChangedMessage.SchemaV1, change.EventId, change.JobId, change.From, change.To, change.Direction, change.Reason, change.DecidedAt,
            change.Policy, version, change.CorrelationId, [.. change.Criteria.Select(Criterion)]);

    // Stored outcomes name aggregations and comparisons as the enums do (Max, LessOrEqual); the wire uses the policy's words (max, <=).
    static PhaseChangeCriterion Criterion(CriterionOutcome outcome) => new(
        outcome.Metric,
        Enum.TryParse<Aggregation>(outcome.Aggregation, out var aggregation) ? Aggregations.Name(aggregation) : outcome.Aggregation,
        Enum.TryParse<Comparison>(outcome.Comparison, out var comparison) ? comparison.PolicyText() : outcome.Comparison,
        outcome.Threshold,
        outcome.Value,
        outcome.Samples,
        outcome.Verdict ?? (outcome.Passed ? Verdicts.Name(Verdict.Pass) : Verdicts.Name(Verdict.Fail)));
}
