using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.Contracts.PhaseChanges;
using Streaming.EventStore;
using Streaming.Projections;
using Streaming.Projections.Checkpointing;
using Streaming.Projections.Tail;

namespace Streaming.Promoter.Publishing;

/// <summary>
/// A fold that publishes every recorded phase change through its <see cref="IPhaseChangeTransport"/>, in log order,
/// and moves its own checkpoint only past what the broker has confirmed: at most once a second while it publishes,
/// every few seconds while the log holds nothing to publish, never merely because the log went quiet. A crash in between
/// publishes them again with the same event ids (at least once); the checkpoint's commit is synchronous, since what it
/// passes is published; rebuilding projections or replaying history never reaches this checkpoint, so
/// old decisions are never re-published. Each transport has its own relay and checkpoint, so one broker's outage holds
/// back only its own relay. A phase change that cannot be read is recorded as poisoned and not published.
/// <para>
/// Given the process's <see cref="PhaseChangeSubscription"/>, it publishes each phase change the decisions fold commits
/// as soon as it is handed over, and when the log brings it later, skips it by its event id; the log remains the
/// recovery path and the checkpoint's record. Handed-over changes are published only while nothing before them can be
/// missing: from the start, and after a gap in the hand-over (a full queue), they wait until the log has brought the
/// last one seen, so each job's changes still first go out in version order.
/// </para>
/// </summary>
public sealed partial class PhaseChangeRelay(
    NpgsqlDataSource dataSource,
    IPhaseChangeTransport transport,
    string checkpointName,
    ILogger<PhaseChangeRelay> logger,
    PhaseChangeSubscription? feed = null) : IFedLogFold
{
    /// <summary>The checkpoint of the relay to Kafka.</summary>
    public const string CheckpointName = "promoter:phase-change-relay";

    // The checkpoint of a relay that publishes is moved at most this often; one that publishes nothing, every few seconds.
    static readonly TimeSpan SaveInterval = TimeSpan.FromSeconds(1);

    readonly List<PhaseChangedMessage> _batch = [];
    readonly List<PoisonedEvent> _poisoned = [];
    readonly FoldCheckpoint _checkpoint = new(checkpointName, synchronous: true);
    TailPosition _position;
    TailPosition _published;
    bool _publishedSinceSave;
    long _count;

    // The hand-over: changes published ahead of the log, in the order handed (the log brings them in the same order);
    // the last number taken; and, while handed changes wait for the log, the last one the log must bring first.
    readonly Queue<FedPhaseChange> _ahead = new();
    readonly HashSet<Guid> _aheadIds = [];
    readonly List<FedPhaseChange> _handed = [];
    // The latest changes the log brought, for hand-overs that come after the log (rare: the hand-over is read first).
    readonly Queue<Guid> _fromLog = new();
    readonly HashSet<Guid> _fromLogIds = [];
    long _lastHanded;
    Guid? _waitingFor;
    bool _waiting = true;
    long _handedPublished;

    public string Name => checkpointName;

    public bool ReadsArchive => true;

    public TailPosition Position => _position;

    /// <summary>Phase changes this instance has published (confirmed by the broker).</summary>
    public long Published => Interlocked.Read(ref _count);

    /// <summary>Phase changes this instance published as they were handed over, ahead of the log.</summary>
    public long PublishedAhead => Interlocked.Read(ref _handedPublished);

    /// <summary>Checkpoint saves this instance committed.</summary>
    public long Commits => _checkpoint.Commits;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _position = _published = await _checkpoint.LoadAsync(dataSource, cancellationToken);
        _publishedSinceSave = false;
        _batch.Clear();
        _poisoned.Clear();
        _ahead.Clear();
        _aheadIds.Clear();
        _handed.Clear();
        _fromLog.Clear();
        _fromLogIds.Clear();
        // What was handed over before this start may be folded from the log only: wait for the log to bring one.
        _waiting = true;
        _waitingFor = null;
    }

    public ValueTask<bool> WaitToTakeAsync(CancellationToken cancellationToken) =>
        feed is null ? ValueTask.FromResult(false) : feed.Reader.WaitToReadAsync(cancellationToken);

    public async Task TakeAsync(CancellationToken cancellationToken)
    {
        if (_handed.Count == 0)
        {
            while (_handed.Count < 1_000 && feed!.Reader.TryRead(out var handed))
            {
                if (handed.Sequence != _lastHanded + 1)
                {
                    // Some were dropped: those after them wait until the log has brought the last one seen.
                    _waiting = true;
                }
                _lastHanded = handed.Sequence;
                if (_fromLogIds.Contains(handed.Change.EventId))
                {
                    // The log brought it already, and everything handed before it.
                    _waiting = false;
                    _waitingFor = null;
                    continue;
                }
                if (_waiting)
                {
                    _waitingFor = handed.Change.EventId;
                    continue;
                }
                _handed.Add(handed);
            }
        }
        if (_handed.Count == 0)
        {
            return;
        }
        // Published again, whole, after a transient failure.
        await transport.PublishAsync([.. _handed.Select(h => h.Change)], cancellationToken);
        Interlocked.Add(ref _count, _handed.Count);
        Interlocked.Add(ref _handedPublished, _handed.Count);
        LogPublished(_handed.Count, transport.Destination);
        foreach (var handed in _handed)
        {
            _ahead.Enqueue(handed);
            _aheadIds.Add(handed.Change.EventId);
        }
        _handed.Clear();
    }

    // The log brought the change: true when it was published already from the hand-over.
    bool WentOutAhead(Guid eventId)
    {
        if (_fromLogIds.Add(eventId))
        {
            _fromLog.Enqueue(eventId);
            if (_fromLog.Count > PhaseChangeFeed.Capacity)
            {
                _fromLogIds.Remove(_fromLog.Dequeue());
            }
        }
        if (_waitingFor == eventId)
        {
            // Everything handed over up to it is in the log before it, so folded by now: the hand-over is whole again.
            _waiting = false;
            _waitingFor = null;
        }
        if (!_aheadIds.Contains(eventId))
        {
            return false;
        }
        // Those handed before it are in the log before it: the log brought them already (and they went out twice).
        while (_ahead.TryDequeue(out var ahead))
        {
            _aheadIds.Remove(ahead.Change.EventId);
            if (ahead.Change.EventId == eventId)
            {
                break;
            }
        }
        return true;
    }

    public async Task ApplyAsync(LogBatch batch, CancellationToken cancellationToken)
    {
        // A batch that failed to publish is published again, whole, before anything after it.
        if (_published.CompareTo(_position) < 0)
        {
            await PublishAsync(cancellationToken);
        }
        foreach (var logEvent in batch.After(_position))
        {
            if (logEvent.Type != PhaseChanged.EventType)
            {
                continue;
            }
            try
            {
                var change = logEvent.Read<PhaseChanged>();
                if (!WentOutAhead(change.EventId))
                {
                    _batch.Add(PhaseChangeMessages.Of(change, logEvent.Version));
                }
            }
            catch (UndecodableEventException e)
            {
                _poisoned.Add(PoisonedEvent.Of(checkpointName, logEvent, e));
                LogUnreadable(e, checkpointName, logEvent.StreamId, logEvent.Position.ToString());
            }
        }
        if (batch.End.CompareTo(_position) > 0)
        {
            _position = batch.End;
        }
        await PublishAsync(cancellationToken);
        await SaveIfDueAsync(cancellationToken);
    }

    public async Task TickAsync(CancellationToken cancellationToken)
    {
        await PublishAsync(cancellationToken);
        await SaveIfDueAsync(cancellationToken);
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await PublishAsync(cancellationToken);
        if (_checkpoint.Resumed != _published)
        {
            await SaveAsync(cancellationToken);
        }
    }

    async Task PublishAsync(CancellationToken cancellationToken)
    {
        if (_batch.Count > 0)
        {
            await transport.PublishAsync(_batch, cancellationToken);
            Interlocked.Add(ref _count, _batch.Count);
            LogPublished(_batch.Count, transport.Destination);
            _batch.Clear();
            _publishedSinceSave = true;
        }
        _published = _position;
    }

    Task SaveIfDueAsync(CancellationToken cancellationToken)
    {
        var due = (_publishedSinceSave || _poisoned.Count > 0) && _checkpoint.SinceSave >= SaveInterval || _checkpoint.QuietSaveDue(_published);
        return due && _checkpoint.Resumed != _published ? SaveAsync(cancellationToken) : Task.CompletedTask;
    }

    async Task SaveAsync(CancellationToken cancellationToken)
    {
        await _checkpoint.SaveAsync(dataSource, _published, (transaction, token) => PoisonedEvents.RecordAsync(transaction, _poisoned, token), cancellationToken);
        _poisoned.Clear();
        _publishedSinceSave = false;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Published {Count} phase changes to {Destination}")]
    partial void LogPublished(int count, string destination);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Relay} cannot read the phase change at {Position} of stream {StreamId}; it is recorded in es.poisoned_events and not published")]
    partial void LogUnreadable(Exception exception, string relay, string streamId, string position);
}
