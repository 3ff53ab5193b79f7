using System.Globalization;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Lifecycle;

namespace Streaming.Api.Jobs;

/// <summary>
/// What a job's criterion chart shows: the rules of <see cref="Phase"/>'s gates, the thresholds a recorded decision used
/// (<see cref="Recorded"/>) where it has them, and, when it is not the job's own phase's, why (<see cref="Note"/>).
/// </summary>
sealed record SeriesBasis(string Phase, GateRule? Promote, GateRule? Demote, string? Note, IReadOnlyList<CriterionOutcome> Recorded)
{
    public double Threshold(Criterion criterion) =>
        Recorded.FirstOrDefault(r => r.Metric == criterion.Metric && string.Equals(r.Aggregation, criterion.Aggregation.ToString(), StringComparison.OrdinalIgnoreCase))?.Threshold
        ?? criterion.Threshold;

    /// <summary>
    /// The job's own phase's gates, unless the job has not acknowledged its phase or the phase has no criteria of its own:
    /// then the gate that moved it there (its evidence, up to the decision), or, for a job never moved, the gate into its phase.
    /// </summary>
    public static SeriesBasis For(JobRow row, LifecyclePolicy? policy, IReadOnlyList<RecordedEvent> events)
    {
        var own = new SeriesBasis(row.Phase, policy?.GateFrom(row.Phase)?.Promote, policy?.AdmissionGate(row.Phase)?.Demote, null, []);
        if (policy is null || (!row.AwaitingAck && (own.Promote is { Criteria.Count: > 0 } || own.Demote is not null)))
        {
            return own;
        }
        var move = events.LastOrDefault(e => e.Type == PhaseChanged.EventType) is { } last ? ContractsJson.Deserialize<PhaseChanged>(last.Data) : null;
        if (move is not null && move.To == row.Phase && policy.HasPhase(move.From))
        {
            var demoted = move.Direction == PhaseDecision.Demote;
            var promote = demoted ? null : policy.GateFrom(move.From)?.Promote;
            var demote = demoted ? policy.AdmissionGate(move.From)?.Demote : null;
            if (promote is { Criteria.Count: > 0 } || demote is not null)
            {
                var why = row.AwaitingAck
                    ? $"{row.Phase} is not acknowledged yet (the job still reports {row.LastReportedPhase ?? "nothing"})"
                    : $"{row.Phase} has no criteria of its own";
                return new SeriesBasis(move.From, promote, demote,
                    $"{why}: the criteria of {move.From} → {move.To} that moved it, up to the {move.Direction} at {move.DecidedAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)}",
                    move.Criteria);
            }
        }
        if (!row.AwaitingAck && policy.PreviousPhase(row.Phase) is { } previous && policy.GateFrom(previous)?.Promote is { Criteria.Count: > 0 } admission)
        {
            return new SeriesBasis(row.Phase, admission, null,
                $"{row.Phase} has no criteria of its own: the criteria of the gate into it ({previous} → {row.Phase}), over its signals in {row.Phase}", []);
        }
        return own;
    }
}
