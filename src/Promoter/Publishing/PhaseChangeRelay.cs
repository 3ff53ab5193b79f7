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
    LogPositions _position = LogPositions.Start(0);
    LogPositions _published = LogPositions.Start(0);
    bool _publishedSinceSave;
    long _count;

    // The hand-over, per log partition (the log brings a partition's changes in the order they were handed; there is no
    // order between partitions): changes published ahead of the log, in the order handed; and, while a partition's handed
    // changes wait for the log, the last one the log must bring first. The last number taken.
    readonly Dictionary<int, Queue<FedPhaseChange>> _ahead = [];
    readonly HashSet<Guid> _aheadIds = [];
    readonly List<FedPhaseChange> _handed = [];
    // The latest changes the log brought, for hand-overs that come after the log (rare: the hand-over is read first).
    readonly Queue<Guid> _fromLog = new();
    readonly HashSet<Guid> _fromLogIds = [];
    readonly Dictionary<int, Guid> _waitingFor = [];
    readonly HashSet<int> _waiting = [];
    LogPartitioner _partitioner = LogPartitioner.Single;
    long _lastHanded;
    long _handedPublished;

    public string Name => checkpointName;

    public bool ReadsArchive => true;

    public LogPositions Position => _position;

    /// <summary>Phase changes this instance has published (confirmed by the broker).</summary>
    public long Published => Interlocked.Read(ref _count);

    /// <summary>Phase changes this instance published as they were handed over, ahead of the log.</summary>
    public long PublishedAhead => Interlocked.Read(ref _handedPublished);

    /// <summary>Checkpoint saves this instance committed.</summary>
    public long Commits => _checkpoint.Commits;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _position = _published = await _checkpoint.LoadAsync(dataSource, cancellationToken);
        // Job streams only: no control prefix is needed to place them.
        _partitioner = new LogPartitioner((await FollowedPartitions.ReadAsync(dataSource, cancellationToken)).Partitioner.Partitions, []);
        _publishedSinceSave = false;
        _batch.Clear();
        _poisoned.Clear();
        _ahead.Clear();
        _aheadIds.Clear();
        _handed.Clear();
        _fromLog.Clear();
        _fromLogIds.Clear();
        // What was handed over before this start may be folded from the log only: wait for the log to bring one.
        _waitingFor.Clear();
        WaitInEveryPartition();
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
                    // Some were dropped, of any partition: those after them wait until the log has brought the last one
                    // seen of their partition.
                    WaitInEveryPartition();
                }
                _lastHanded = handed.Sequence;
                var partition = _partitioner.PartitionOf(handed.Change.JobId);
                if (_fromLogIds.Contains(handed.Change.EventId))
                {
                    // The log brought it already, and everything of its partition handed before it.
                    _waiting.Remove(partition);
                    _waitingFor.Remove(partition);
                    continue;
                }
                if (_waiting.Contains(partition))
                {
                    _waitingFor[partition] = handed.Change.EventId;
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
            Ahead(_partitioner.PartitionOf(handed.Change.JobId)).Enqueue(handed);
            _aheadIds.Add(handed.Change.EventId);
        }
        _handed.Clear();
    }

    void WaitInEveryPartition()
    {
        foreach (var partition in Enumerable.Range(0, _partitioner.Partitions))
        {
            _waiting.Add(partition);
        }
    }

    Queue<FedPhaseChange> Ahead(int partition)
    {
        if (!_ahead.TryGetValue(partition, out var ahead))
        {
            _ahead[partition] = ahead = new Queue<FedPhaseChange>();
        }
        return ahead;
    }

    // The log brought the change, of <paramref name="partition"/>: true when it was published already from the hand-over.
    bool WentOutAhead(Guid eventId, int partition)
    {
        if (_fromLogIds.Add(eventId))
        {
            _fromLog.Enqueue(eventId);
            if (_fromLog.Count > PhaseChangeFeed.Capacity)
            {
                _fromLogIds.Remove(_fromLog.Dequeue());
            }
        }
        if (_waitingFor.TryGetValue(partition, out var waitingFor) && waitingFor == eventId)
        {
            // Everything of its partition handed over up to it is in the log before it, so folded by now: the
            // partition's hand-over is whole again.
            _waiting.Remove(partition);
            _waitingFor.Remove(partition);
        }
        if (!_aheadIds.Contains(eventId))
        {
            return false;
        }
        // Those of its partition handed before it are in the log before it: the log brought them already (and they went
        // out twice).
        while (Ahead(partition).TryDequeue(out var ahead))
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
        if (!_published.Covers(_position))
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
                if (!WentOutAhead(change.EventId, logEvent.Event.Partition))
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
        if (!_position.Covers(batch.End))
        {
            _position = _position.Max(batch.End);
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
