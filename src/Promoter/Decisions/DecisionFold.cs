using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.PhaseChanges;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.Projections;

namespace Streaming.Promoter.Decisions;

/// <summary>
/// Runs the lifecycle policy over every job's signals in log order and records each decision in the job's stream.
/// A decision's id is derived from the signal that caused it, so re-running after a crash re-makes the same decision
/// and the store refuses the copy: the store is the outbox, and nothing is decided twice.
/// </summary>
public sealed partial class DecisionFold(
    NpgsqlDataSource dataSource,
    ActivePolicies policies,
    EventStreams streams,
    DecisionCounters counters,
    ILogger<DecisionFold> logger) : IStreamFold<JobLifecycle>
{
    public const string CheckpointName = "promoter:decisions";

    readonly List<(PhaseDecision Decision, string? CorrelationId)> _pending = [];

    public string Name => CheckpointName;

    public bool HasState(string streamId) => !ActivePolicies.IsPolicyStream(streamId);

    public void Observe(RecordedEvent recorded) => policies.Observe(recorded);

    public Task ResumeAsync(TailPosition checkpoint, CancellationToken cancellationToken) => policies.LoadAsync(dataSource, checkpoint, cancellationToken);

    public JobLifecycle Create(string streamId) => JobLifecycleDecider.Initial(streamId);

    public JobLifecycle Apply(JobLifecycle state, RecordedEvent recorded)
    {
        switch (recorded.Type)
        {
            case SignalRecorded.EventType:
                var signal = ContractsJson.Deserialize<SignalRecorded>(recorded.Data);
                var sample = SignalSamples.From(recorded, signal);
                if (policies.For(signal.Labels) is not { } policy)
                {
                    return JobLifecycleDecider.Record(state, sample);
                }
                var next = JobLifecycleDecider.Evolve(state, sample, policy);
                if (JobLifecycleDecider.Decide(next, policy) is { } decision)
                {
                    _pending.Add((decision, signal.CorrelationId));
                    return JobLifecycleDecider.Apply(next, decision);
                }
                return next;
            case PhaseChanged.EventType:
                var change = ContractsJson.Deserialize<PhaseChanged>(recorded.Data);
                // Our own decisions were applied when they were made; anything else (an override) is news.
                return IsOwn(change) ? state : JobLifecycleDecider.Apply(state, SignalSamples.ToDecision(change));
            default:
                return state;
        }
    }

    public async Task AfterBatchAsync(CancellationToken cancellationToken)
    {
        if (_pending.Count == 0)
        {
            return;
        }
        // One transaction for the batch's decisions: every stream lock first, then the appends. Ingest appends to the
        // same streams, so the transaction can lose a stream-order conflict; it is then rerun whole.
        var appended = await streams.InTransactionAsync(async transaction =>
        {
            await EventStreams.LockAsync(transaction, _pending.Select(p => p.Decision.JobId), cancellationToken);
            var written = new List<(PhaseDecision Decision, string? CorrelationId)>(_pending.Count);
            foreach (var (decision, correlationId) in _pending)
            {
                var change = SignalSamples.ToEvent(decision);
                if (await streams.AppendOnceAsync(
                    transaction,
                    decision.JobId,
                    new EventToAppend(
                        change.EventId,
                        PhaseChanged.EventType,
                        ContractsJson.Serialize(change),
                        ContractsJson.Serialize(new EventMetadata(correlationId, null)),
                        decision.DecidedAt),
                    cancellationToken))
                {
                    written.Add((decision, correlationId));
                }
            }
            return written;
        }, cancellationToken);
        _pending.Clear();
        foreach (var (decision, correlationId) in appended)
        {
            counters.Add(decision.Direction);
            LogDecision(decision.JobId, correlationId, decision.Direction, decision.From, decision.To, decision.DecidedAt, decision.Policy, decision.Reason);
            if (decision.Quarantines)
            {
                LogQuarantined(decision.JobId, correlationId, decision.Policy);
            }
        }
    }

    public Task<IReadOnlyDictionary<string, JobLifecycle>> LoadAsync(NpgsqlConnection connection, IReadOnlyList<string> streamIds, CancellationToken cancellationToken) =>
        DecisionStateTable.LoadAsync(connection, streamIds, cancellationToken);

    public Task SaveAsync(NpgsqlTransaction transaction, IReadOnlyList<KeyValuePair<string, JobLifecycle>> changed, CancellationToken cancellationToken) =>
        DecisionStateTable.SaveAsync(transaction, changed, cancellationToken);

    // Decisions name the policy version that made them ("name@version").
    static bool IsOwn(PhaseChanged change) =>
        change.Policy.Contains('@', StringComparison.Ordinal) && change.Direction is PhaseDirection.Promote or PhaseDirection.Demote;

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Job {JobId} {Direction}d {From} → {To} at {DecidedAt:u} by {Policy} (correlation {CorrelationId}): {Reason}")]
    partial void LogDecision(string jobId, string? correlationId, string direction, string from, string to, DateTimeOffset decidedAt, string policy, string reason);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Job {JobId} is quarantined by {Policy}: it changed phase too often, and stays where it is until a person releases it (correlation {CorrelationId})")]
    partial void LogQuarantined(string jobId, string? correlationId, string policy);
}
