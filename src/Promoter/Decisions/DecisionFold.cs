using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.PhaseChanges;
using Streaming.Contracts.Text;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.LifecycleEvents;
using Streaming.Projections;
using Streaming.Projections.Tail;
using Streaming.Lifecycle.Admissions;
using Streaming.Lifecycle.Breakers;
using Streaming.Lifecycle.Approvals;
using Streaming.Promoter.Approvals;
using Streaming.Promoter.Publishing;

namespace Streaming.Promoter.Decisions;

/// <summary>
/// The Promoter's decisions as a fold of the log: the <see cref="DecisionEngine"/> run over each job's events in log
/// order, and what it decides recorded after each batch in the streams concerned. An event's id is derived from the
/// event that caused it, so re-running after a crash re-makes the same decision and the store refuses the copy: the
/// store is the outbox, and nothing is decided twice. Once a transaction that recorded phase changes commits, they are
/// handed to the process's relays (<see cref="PhaseChangeFeed"/>), which publish them without reading them back.
/// </summary>
public sealed partial class DecisionFold(
    NpgsqlDataSource dataSource,
    DecisionEngine engine,
    EventStreams streams,
    DecisionCounters counters,
    ILogger<DecisionFold> logger,
    PhaseChangeFeed? feed = null,
    ApprovalGauge? approvalGauge = null) : IStreamFold<JobLifecycle>
{
    public const string CheckpointName = "promoter:decisions";

    // What the batch decided, in log order, until it is recorded.
    readonly List<DecisionOutcome> _pending = [];

    public string Name => CheckpointName;

    /// <summary>
    /// Where the control streams' events it decides (breaker changes, pauses ended) are appended when that is not the
    /// fold's own store (a Promoter of a shard other than 0): shard 0's, in a transaction of their own before the jobs'.
    /// </summary>
    public EventStreams? ControlHome { get; init; }

    /// <summary>
    /// Whether this fold owns the control partition of its store this run (it saves the ledgers of the waves' slots and
    /// the breakers there), and, on shard 0, records the ledgers' grants and breaker changes (Owner mode).
    /// </summary>
    public bool OwnsControl { get; private set; } = true;

    public bool HasState(string streamId) => !ControlStreams.IsControl(streamId);

    public void Observe(LogEvent logEvent) => Keep(engine.Observe(logEvent));

    public async Task ResumeAsync(LogPositions checkpoint, CancellationToken cancellationToken)
    {
        _pending.Clear();
        var control = checkpoint.Of(LogPartitioner.ControlPartition);
        await engine.Policies.LoadAsync(dataSource, control, cancellationToken);
        await engine.KnownIssues.LoadAsync(dataSource, control, cancellationToken);
        // Saved with the checkpoint; a fold that starts from the beginning of the log builds it afresh.
        engine.Fleet = checkpoint.IsStart
            ? new FleetControl()
            : await DecisionStateTable.LoadFleetAsync(dataSource, cancellationToken) ?? new FleetControl();
        engine.Approvals = checkpoint.IsStart
            ? new ApprovalBook()
            : await ApprovalStateTable.LoadAsync(dataSource, cancellationToken) ?? new ApprovalBook();
        approvalGauge?.Observe(engine.Approvals);
        engine.Gates = checkpoint.IsStart ? new GateKeeper() : await GateStateTable.LoadAsync(dataSource, cancellationToken);
        if (engine.Admissions == AdmissionMode.Owner)
        {
            var followed = await FollowedPartitions.ReadAsync(dataSource, cancellationToken);
            OwnsControl = followed.ControlOnly is null && followed.Owned.Contains(LogPartitioner.ControlPartition);
            // The ledger is a fold of the control partition alone, saved by its owner with that partition's checkpoint, from
            // whose position every follower of the partition resumes it.
            engine.ResumeAdmissions(control == TailPosition.Start
                ? new AdmissionLedger()
                : await AdmissionStateTable.LoadAsync(dataSource, cancellationToken) ?? new AdmissionLedger());
            // Never saved yet past the start: the fleet ran in Local mode until now, and its own counts are where the ledger starts.
            engine.ResumeBreakers(control == TailPosition.Start
                ? new BreakerLedger()
                : await BreakerStateTable.LoadAsync(dataSource, cancellationToken) ?? BreakerLedger.From(engine.Fleet));
        }
    }

    public JobLifecycle Create(string streamId) => JobLifecycleDecider.Initial(streamId);

    public JobLifecycle Apply(JobLifecycle state, LogEvent logEvent)
    {
        var (next, outcome) = engine.Apply(state, logEvent);
        Keep(outcome);
        return next;
    }

    public JobLifecycle Poisoned(JobLifecycle state) => state;

    void Keep(DecisionOutcome outcome)
    {
        if (!outcome.IsEmpty)
        {
            _pending.Add(outcome);
        }
    }

    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        counters.SetSilent(engine.Gates.Silence.SilentCount);
        if (_pending.Count == 0)
        {
            return;
        }
        var decisions = _pending.SelectMany(o => o.Decisions).ToList();
        var deferrals = _pending.SelectMany(o => o.Deferrals).ToList();
        var ended = _pending.SelectMany(o => o.EndedOverrides).ToList();
        var breakers = _pending.SelectMany(o => o.BreakerChanges).ToList();
        var requests = _pending.SelectMany(o => o.ApprovalRequests ?? []).ToList();
        var lapses = _pending.SelectMany(o => o.ApprovalLapses ?? []).ToList();
        // The ledgers' grants and breaker changes are the owner's to record; every Promoter's requests and reports are its own.
        var appends = _pending.SelectMany(o => o.Appends ?? [])
            .Where(a => OwnsControl && ControlHome is null || a.Event.Type is not (AdmissionGranted.EventType or CircuitBreakerChanged.EventType)).ToList();
        var owned = appends.Where(a => a.Event.Type == CircuitBreakerChanged.EventType).ToList();
        if (ControlHome is { } home)
        {
            var controls = breakers.Select(BreakerEvent).Concat(appends.Where(a => ControlStreams.IsControl(a.StreamId)).Select(a => (a.StreamId, a.Event))).ToList();
            if (controls.Count > 0)
            {
                // Every event's id derives from its cause: a rerun after either transaction failed stores nothing twice.
                await home.InTransactionAsync(transaction => home.AppendEachOnceAsync(transaction, controls, cancellationToken), cancellationToken);
            }
            appends = [.. appends.Where(a => !ControlStreams.IsControl(a.StreamId))];
        }
        // One transaction for the batch's events: every stream lock first, then the appends. Ingest appends to the same
        // streams, so the transaction can lose a stream-order conflict; it is then rerun whole.
        var appended = await streams.InTransactionAsync(async transaction =>
        {
            await EventStreams.LockAsync(transaction,
                decisions.Select(d => d.Decision.JobId).Concat(deferrals.Select(d => d.JobId)).Concat(ended.Select(e => e.JobId))
                    .Concat(requests.Select(r => r.JobId)).Concat(lapses.Select(l => l.JobId))
                    .Concat(appends.Select(a => a.StreamId).Where(id => !ControlStreams.IsControl(id))),
                cancellationToken);
            // Every event in one statement, in this order: the transaction holds the jobs' stream locks, which Ingest's
            // next batch waits for, for one round trip instead of one per event.
            var events = new List<(string StreamId, EventToAppend Event)>(decisions.Count + deferrals.Count + appends.Count);
            var changes = new List<PhaseChanged>(decisions.Count);
            foreach (var made in decisions)
            {
                var change = SignalSamples.ToEvent(made.Decision) with { CorrelationId = made.CorrelationId };
                changes.Add(change);
                events.Add((made.Decision.JobId, Event(change.EventId, PhaseChanged.EventType, ContractsJson.Serialize(change), made.CorrelationId, made.Decision.DecidedAt)));
            }
            events.AddRange(deferrals.Select(d => (d.JobId, Event(d.EventId, PromotionDeferred.EventType, ContractsJson.Serialize(d), null, d.DecidedAt))));
            events.AddRange(requests.Select(r => (r.JobId, Event(r.EventId, ApprovalRequested.EventType, ContractsJson.Serialize(r), null, r.RequestedAt))));
            events.AddRange(lapses.Select(l => (l.JobId, Event(l.EventId, ApprovalLapsed.EventType, ContractsJson.Serialize(l), null, l.LapsedAt))));
            events.AddRange(ended.Select(e => (e.JobId, Event(e.EventId, OverrideEnded.EventType, ContractsJson.Serialize(e), null, e.EndedAt))));
            if (ControlHome is null)
            {
                events.AddRange(breakers.Select(BreakerEvent));
            }
            events.AddRange(appends.Select(a => (a.StreamId, a.Event)));
            var versions = await streams.AppendEachOnceAsync(transaction, events, cancellationToken);
            var written = new List<(MadeDecision Made, PhaseChangedMessage Message)>(decisions.Count);
            for (var i = 0; i < decisions.Count; i++)
            {
                if (versions[i] is { } version)
                {
                    written.Add((decisions[i], PhaseChangeMessages.Of(changes[i], version)));
                }
            }
            return written;
        }, cancellationToken);
        _pending.Clear();
        feed?.Offer([.. appended.Select(a => a.Message)]);
        foreach (var deferred in deferrals)
        {
            LogDeferred(deferred.JobId, deferred.From, deferred.To, deferred.Policy, UntrustedText.Escape(deferred.Reason, DecisionEngine.OperatorTextLength));
        }
        foreach (var request in requests)
        {
            LogApprovalRequested(request.JobId, request.From, request.To, request.Policy);
        }
        foreach (var lapse in lapses)
        {
            LogApprovalLapsed(lapse.JobId, lapse.From, lapse.To, lapse.Policy, UntrustedText.Escape(lapse.Reason, DecisionEngine.OperatorTextLength));
        }
        foreach (var change in breakers)
        {
            LogBreaker(change.Policy, change.Phase, change.Opened ? "opened: promotions into it pause" : "closed: promotions into it resume", UntrustedText.Escape(change.Reason, DecisionEngine.OperatorTextLength));
        }
        foreach (var append in owned)
        {
            var change = ContractsJson.Deserialize<CircuitBreakerChanged>(append.Event.Data);
            LogBreaker(change.Policy, change.Phase, change.State == CircuitBreakerChanged.Open ? "opened fleet-wide: promotions into it pause" : "closed fleet-wide: promotions into it resume",
                UntrustedText.Escape(change.Reason, DecisionEngine.OperatorTextLength));
        }
        foreach (var ((decision, correlationId), _) in appended)
        {
            counters.Add(decision.Direction);
            LogDecision(decision.JobId, correlationId, decision.Direction, decision.From, decision.To, decision.DecidedAt, decision.Policy, UntrustedText.Escape(decision.Reason, DecisionEngine.OperatorTextLength));
            if (decision.Quarantines)
            {
                LogQuarantined(decision.JobId, correlationId, decision.Policy);
            }
        }
    }

    static (string StreamId, EventToAppend Event) BreakerEvent(BreakerChange change)
    {
        var append = DecisionEngine.BreakerEvent(change, EventIds.ForBreakerChange(change.Policy, change.Phase, change.Sequence));
        return (append.StreamId, append.Event);
    }

    static EventToAppend Event(Guid eventId, string type, string data, string? correlationId, DateTimeOffset eventTime) =>
        new(eventId, type, data, ContractsJson.Serialize(new EventMetadata(correlationId, null)), eventTime);

    public Task<IReadOnlyDictionary<string, JobLifecycle>> LoadAsync(NpgsqlConnection connection, IReadOnlyList<string> streamIds, CancellationToken cancellationToken) =>
        DecisionStateTable.LoadAsync(connection, streamIds, cancellationToken);

    public Task SaveAsync(NpgsqlTransaction transaction, IReadOnlyList<KeyValuePair<string, JobLifecycle>> changed, CancellationToken cancellationToken) =>
        PrepareSave(changed)(transaction, cancellationToken);

    // The states, the fleet, the approvals and the gates are serialized as they are now: the write may run beside the fold
    // (FoldOptions.WriteAside), and be run again with the same rows.
    public Func<NpgsqlTransaction, CancellationToken, Task> PrepareSave(IReadOnlyList<KeyValuePair<string, JobLifecycle>> changed)
    {
        var rows = DecisionStateTable.Rows(changed, engine.Fleet);
        var approvals = ApprovalStateTable.PrepareSave(engine.Approvals);
        approvalGauge?.Observe(engine.Approvals);
        var gates = GateStateTable.PrepareSave(engine.Gates);
        var admissions = engine.Admissions == AdmissionMode.Owner && OwnsControl ? AdmissionStateTable.PrepareSave(engine.Ledger) : null;
        var breakerLedger = engine.Admissions == AdmissionMode.Owner && OwnsControl ? BreakerStateTable.PrepareSave(engine.Breakers) : null;
        return async (transaction, cancellationToken) =>
        {
            await DecisionStateTable.SaveAsync(transaction, rows, cancellationToken);
            if (admissions is not null)
            {
                await admissions(transaction, cancellationToken);
            }
            if (breakerLedger is not null)
            {
                await breakerLedger(transaction, cancellationToken);
            }
            await approvals(transaction, cancellationToken);
            await gates(transaction, cancellationToken);
        };
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Job {JobId} {Direction}: {From} → {To} at {DecidedAt:u} by {Policy} (correlation {CorrelationId}): {Reason}")]
    partial void LogDecision(string jobId, string? correlationId, string direction, string from, string to, DateTimeOffset decidedAt, string policy, string reason);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Job {JobId} is quarantined by {Policy}: it changed phase too often, and stays where it is until a person releases it (correlation {CorrelationId})")]
    partial void LogQuarantined(string jobId, string? correlationId, string policy);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} waits to be promoted {From} → {To} by {Policy}: {Reason}")]
    partial void LogDeferred(string jobId, string from, string to, string policy, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} waits for an operator's approval to be promoted {From} → {To} by {Policy}")]
    partial void LogApprovalRequested(string jobId, string from, string to, string policy);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: the request for approval of {From} → {To} by {Policy} lapsed: {Reason}")]
    partial void LogApprovalLapsed(string jobId, string from, string to, string policy, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Circuit breaker of {Policy}/{Phase} {Change} ({Reason})")]
    partial void LogBreaker(string policy, string phase, string change, string reason);
}
