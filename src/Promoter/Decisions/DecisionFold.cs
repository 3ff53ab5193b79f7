using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.Projections;

namespace Streaming.Promoter.Decisions;

/// <summary>
/// Runs each job's policy over its signals in log order, carries out operators' overrides, and records each decision
/// and each ended override in the job's stream. An event's id is derived from the event that caused it, so re-running
/// after a crash re-makes the same decision and the store refuses the copy: the store is the outbox, and nothing is
/// decided twice.
/// </summary>
public sealed partial class DecisionFold(
    NpgsqlDataSource dataSource,
    DecisionEngine engine,
    EventStreams streams,
    DecisionCounters counters,
    ILogger<DecisionFold> logger) : IStreamFold<JobLifecycle>
{
    public const string CheckpointName = "promoter:decisions";

    public string Name => CheckpointName;

    public bool HasState(string streamId) => !ControlStreams.IsControl(streamId);

    public void Observe(RecordedEvent recorded) => engine.Observe(recorded);

    public async Task ResumeAsync(TailPosition checkpoint, CancellationToken cancellationToken)
    {
        await engine.Policies.LoadAsync(dataSource, checkpoint, cancellationToken);
        await engine.KnownIssues.LoadAsync(dataSource, checkpoint, cancellationToken);
        // Saved with the checkpoint; a fold that starts from the beginning of the log builds it afresh.
        engine.Fleet = checkpoint == TailPosition.Start
            ? new FleetControl()
            : await DecisionStateTable.LoadFleetAsync(dataSource, cancellationToken) ?? new FleetControl();
    }

    public JobLifecycle Create(string streamId) => JobLifecycleDecider.Initial(streamId);

    public JobLifecycle Apply(JobLifecycle state, RecordedEvent recorded) => engine.Apply(state, recorded);

    public async Task AfterBatchAsync(CancellationToken cancellationToken)
    {
        if (!engine.HasPending)
        {
            return;
        }
        // One transaction for the batch's events: every stream lock first, then the appends. Ingest appends to the same
        // streams, so the transaction can lose a stream-order conflict; it is then rerun whole.
        var appended = await streams.InTransactionAsync(async transaction =>
        {
            await EventStreams.LockAsync(transaction,
                engine.Decisions.Select(p => p.Decision.JobId).Concat(engine.Deferrals.Select(d => d.JobId)).Concat(engine.EndedOverrides.Select(e => e.JobId)),
                cancellationToken);
            var written = new List<(PhaseDecision Decision, string? CorrelationId)>(engine.Decisions.Count);
            foreach (var (decision, correlationId) in engine.Decisions)
            {
                var change = SignalSamples.ToEvent(decision);
                if (await AppendAsync(transaction, decision.JobId, change.EventId, PhaseChanged.EventType, ContractsJson.Serialize(change),
                    correlationId, decision.DecidedAt, cancellationToken))
                {
                    written.Add((decision, correlationId));
                }
            }
            foreach (var deferred in engine.Deferrals)
            {
                await AppendAsync(transaction, deferred.JobId, deferred.EventId, PromotionDeferred.EventType, ContractsJson.Serialize(deferred), null,
                    deferred.DecidedAt, cancellationToken);
            }
            foreach (var ended in engine.EndedOverrides)
            {
                await AppendAsync(transaction, ended.JobId, ended.EventId, OverrideEnded.EventType, ContractsJson.Serialize(ended), null, ended.EndedAt, cancellationToken);
            }
            foreach (var change in engine.BreakerChanges)
            {
                var changed = new CircuitBreakerChanged(EventIds.ForBreakerChange(change.Policy, change.Phase, change.Sequence), change.Policy, change.Phase,
                    change.Opened ? CircuitBreakerChanged.Open : CircuitBreakerChanged.Closed, change.Demotions, change.Jobs, change.MaxDemotionShare,
                    change.Window, change.At, change.Reason);
                await AppendAsync(transaction, CircuitBreakerChanged.StreamFor(change.Policy, change.Phase), changed.EventId, CircuitBreakerChanged.EventType,
                    ContractsJson.Serialize(changed), null, change.At, cancellationToken);
            }
            return written;
        }, cancellationToken);
        foreach (var deferred in engine.Deferrals)
        {
            LogDeferred(deferred.JobId, deferred.From, deferred.To, deferred.Policy, deferred.Reason);
        }
        foreach (var change in engine.BreakerChanges)
        {
            LogBreaker(change.Policy, change.Phase, change.Opened ? "opened: promotions into it pause" : "closed: promotions into it resume", change.Reason);
        }
        engine.ClearPending();
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

    Task<bool> AppendAsync(NpgsqlTransaction transaction, string jobId, Guid eventId, string type, string data, string? correlationId,
        DateTimeOffset eventTime, CancellationToken cancellationToken) =>
        streams.AppendOnceAsync(transaction, jobId,
            new EventToAppend(eventId, type, data, ContractsJson.Serialize(new EventMetadata(correlationId, null)), eventTime), cancellationToken);

    public Task<IReadOnlyDictionary<string, JobLifecycle>> LoadAsync(NpgsqlConnection connection, IReadOnlyList<string> streamIds, CancellationToken cancellationToken) =>
        DecisionStateTable.LoadAsync(connection, streamIds, cancellationToken);

    public async Task SaveAsync(NpgsqlTransaction transaction, IReadOnlyList<KeyValuePair<string, JobLifecycle>> changed, CancellationToken cancellationToken)
    {
        await DecisionStateTable.SaveAsync(transaction, changed, cancellationToken);
        await DecisionStateTable.SaveFleetAsync(transaction, engine.Fleet, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Job {JobId} {Direction}: {From} → {To} at {DecidedAt:u} by {Policy} (correlation {CorrelationId}): {Reason}")]
    partial void LogDecision(string jobId, string? correlationId, string direction, string from, string to, DateTimeOffset decidedAt, string policy, string reason);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Job {JobId} is quarantined by {Policy}: it changed phase too often, and stays where it is until a person releases it (correlation {CorrelationId})")]
    partial void LogQuarantined(string jobId, string? correlationId, string policy);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} waits to be promoted {From} → {To} by {Policy}: {Reason}")]
    partial void LogDeferred(string jobId, string from, string to, string policy, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Circuit breaker of {Policy}/{Phase} {Change} ({Reason})")]
    partial void LogBreaker(string policy, string phase, string change, string reason);
}
