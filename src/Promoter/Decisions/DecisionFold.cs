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
    ActivePolicies policies,
    EventStreams streams,
    DecisionCounters counters,
    ILogger<DecisionFold> logger) : IStreamFold<JobLifecycle>
{
    public const string CheckpointName = "promoter:decisions";

    readonly List<(PhaseDecision Decision, string? CorrelationId)> _decisions = [];
    readonly List<OverrideEnded> _endedOverrides = [];

    public string Name => CheckpointName;

    public bool HasState(string streamId) => !ActivePolicies.IsPolicyStream(streamId);

    public void Observe(RecordedEvent recorded) => policies.Observe(recorded);

    public Task ResumeAsync(TailPosition checkpoint, CancellationToken cancellationToken) => policies.LoadAsync(dataSource, checkpoint, cancellationToken);

    public JobLifecycle Create(string streamId) => JobLifecycleDecider.Initial(streamId);

    public JobLifecycle Apply(JobLifecycle state, RecordedEvent recorded) => recorded.Type switch
    {
        SignalRecorded.EventType => OnSignal(state, recorded, ContractsJson.Deserialize<SignalRecorded>(recorded.Data)),
        OverrideSet.EventType => OnOverride(state, recorded, ContractsJson.Deserialize<OverrideSet>(recorded.Data)),
        // Phase changes and ended overrides in a job's stream are this fold's own, applied when they were made.
        _ => state,
    };

    JobLifecycle OnSignal(JobLifecycle state, RecordedEvent recorded, SignalRecorded signal)
    {
        var sample = SignalSamples.From(recorded, signal);
        if (policies.For(signal.Labels) is not { } policy)
        {
            return JobLifecycleDecider.Record(state, sample);
        }
        var next = JobLifecycleDecider.Evolve(state, sample, policy);
        var expiry = JobLifecycleDecider.Expire(next);
        if (expiry.Ended is { } expired)
        {
            _endedOverrides.Add(OverrideEvents.Ended(state.JobId, expired, OverrideEnded.Expired, sample.EmittedAt));
            next = expiry.State;
        }
        if (JobLifecycleDecider.Decide(next, policy) is { } decision)
        {
            _decisions.Add((decision, signal.CorrelationId));
            return JobLifecycleDecider.Apply(next, decision);
        }
        return next;
    }

    JobLifecycle OnOverride(JobLifecycle state, RecordedEvent recorded, OverrideSet set)
    {
        var @override = OverrideEvents.From(set);
        var policy = state.Policy is { } name ? policies.Named(name) : null;
        var outcome = JobLifecycleDecider.Override(state, @override, policy, recorded.Version);
        if (ReferenceEquals(outcome.State, state) && outcome.Change is null)
        {
            LogOverrideIgnored(state.JobId, set.Kind, set.Phase, state.AssignedPhase, set.Actor);
            return state;
        }
        var at = state.LastSignalAt ?? set.SetAt;
        if (outcome.Ended is { } ended)
        {
            _endedOverrides.Add(OverrideEvents.Ended(state.JobId, ended, @override.Kind == OverrideKind.Release ? OverrideEnded.Released : OverrideEnded.Replaced, at));
        }
        LogOverride(state.JobId, set.Kind, set.Actor, set.Reason, set.ExpiresAt);
        if (outcome.Change is { } change)
        {
            _decisions.Add((change, null));
            return JobLifecycleDecider.Apply(outcome.State, change);
        }
        return outcome.State;
    }

    public async Task AfterBatchAsync(CancellationToken cancellationToken)
    {
        if (_decisions.Count == 0 && _endedOverrides.Count == 0)
        {
            return;
        }
        // One transaction for the batch's events: every stream lock first, then the appends. Ingest appends to the same
        // streams, so the transaction can lose a stream-order conflict; it is then rerun whole.
        var appended = await streams.InTransactionAsync(async transaction =>
        {
            await EventStreams.LockAsync(transaction, _decisions.Select(p => p.Decision.JobId).Concat(_endedOverrides.Select(e => e.JobId)), cancellationToken);
            var written = new List<(PhaseDecision Decision, string? CorrelationId)>(_decisions.Count);
            foreach (var (decision, correlationId) in _decisions)
            {
                var change = SignalSamples.ToEvent(decision);
                if (await AppendAsync(transaction, decision.JobId, change.EventId, PhaseChanged.EventType, ContractsJson.Serialize(change),
                    correlationId, decision.DecidedAt, cancellationToken))
                {
                    written.Add((decision, correlationId));
                }
            }
            foreach (var ended in _endedOverrides)
            {
                await AppendAsync(transaction, ended.JobId, ended.EventId, OverrideEnded.EventType, ContractsJson.Serialize(ended), null, ended.EndedAt, cancellationToken);
            }
            return written;
        }, cancellationToken);
        _decisions.Clear();
        _endedOverrides.Clear();
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

    public Task SaveAsync(NpgsqlTransaction transaction, IReadOnlyList<KeyValuePair<string, JobLifecycle>> changed, CancellationToken cancellationToken) =>
        DecisionStateTable.SaveAsync(transaction, changed, cancellationToken);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Job {JobId} {Direction}: {From} → {To} at {DecidedAt:u} by {Policy} (correlation {CorrelationId}): {Reason}")]
    partial void LogDecision(string jobId, string? correlationId, string direction, string from, string to, DateTimeOffset decidedAt, string policy, string reason);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Job {JobId} is quarantined by {Policy}: it changed phase too often, and stays where it is until a person releases it (correlation {CorrelationId})")]
    partial void LogQuarantined(string jobId, string? correlationId, string policy);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: override {Kind} by {Actor} ({Reason}), until {ExpiresAt}")]
    partial void LogOverride(string jobId, string kind, string actor, string reason, DateTimeOffset? expiresAt);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Job {JobId}: override {Kind} {Phase} by {Actor} changes nothing (the job is in {AssignedPhase}; its policy has no such phase, or no phase that way)")]
    partial void LogOverrideIgnored(string jobId, string kind, string? phase, string? assignedPhase, string actor);
}
