using System.Text.Json;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.PhaseChanges;
using Streaming.EventStore;
using Streaming.Lifecycle;

namespace Streaming.Promoter.Publishing;

/// <summary>The wire message of a recorded phase change.</summary>
public static class PhaseChangeMessages
{
    /// <summary>
    /// The message of <paramref name="change"/>, recorded as version <paramref name="version"/> of its job's stream;
    /// <paramref name="metadataCorrelationId"/> stands in for a change recorded before its body carried the correlation id.
    /// </summary>
    public static PhaseChangedMessage Of(PhaseChanged change, long version, string? metadataCorrelationId = null) =>
        new(PhaseChangedMessage.SchemaV1, change.EventId, change.JobId, change.From, change.To, change.Direction, change.Reason, change.DecidedAt,
            change.Policy, version, change.CorrelationId ?? metadataCorrelationId, [.. change.Criteria.Select(Criterion)]);

    /// <summary>The message of a phase change read from the log, whose metadata may carry the correlation id of an older change.</summary>
    public static PhaseChangedMessage Of(PhaseChanged change, RecordedEvent recorded) =>
        Of(change, recorded.Version, change.CorrelationId is null ? CorrelationIdIn(recorded.Metadata) : null);

    // Events read from the history archive come without metadata.
    static string? CorrelationIdIn(string metadata)
    {
        if (string.IsNullOrWhiteSpace(metadata))
        {
            return null;
        }
        try
        {
            return ContractsJson.Deserialize<EventMetadata>(metadata).CorrelationId;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // Stored outcomes name aggregations and comparisons as the enums do (Max, LessOrEqual); the wire uses the policy's words (max, <=).
    static PhaseChangeCriterion Criterion(CriterionOutcome outcome) => new(
        outcome.Metric,
        Enum.TryParse<Aggregation>(outcome.Aggregation, out var aggregation) ? Aggregations.Name(aggregation) : outcome.Aggregation,
        Enum.TryParse<Comparison>(outcome.Comparison, out var comparison) ? comparison.Symbol() : outcome.Comparison,
        outcome.Threshold,
        outcome.Value,
        outcome.Samples,
        outcome.Verdict ?? (outcome.Passed ? Verdicts.Name(Verdict.Pass) : Verdicts.Name(Verdict.Fail)));
}
