using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.Contracts.PhaseChanges;
using Streaming.EventStore;
using Streaming.Projections;
using Streaming.Projections.Tail;

namespace Streaming.Promoter.Publishing;

/// <summary>
/// A fold that publishes every recorded phase change through its <see cref="IPhaseChangeTransport"/>, in log order,
/// and moves its own checkpoint only after the broker has confirmed them. A crash in between publishes them again with
/// the same event ids (at least once); rebuilding projections or replaying history never reaches this checkpoint, so
/// old decisions are never re-published. Each transport has its own relay and checkpoint, so one broker's outage holds
/// back only its own relay. A phase change that cannot be read is recorded as poisoned and not published.
/// </summary>
public sealed partial class PhaseChangeRelay(
    NpgsqlDataSource dataSource,
    IPhaseChangeTransport transport,
    string checkpointName,
    ILogger<PhaseChangeRelay> logger) : ILogFold
{
    /// <summary>The checkpoint of the relay to Kafka.</summary>
    public const string CheckpointName = "promoter:phase-change-relay";

    // The checkpoint of a relay that publishes nothing for a while is moved at most this often (and when the log is quiet).
    static readonly TimeSpan QuietCheckpointInterval = TimeSpan.FromSeconds(5);

    readonly List<PhaseChangedMessage> _batch = [];
    readonly List<PoisonedEvent> _poisoned = [];
    readonly Stopwatch _sinceSave = Stopwatch.StartNew();
    TailPosition? _saved;
    TailPosition _position;
    TailPosition _published;
    TailPosition? _unconfirmed;
    long _count;

    public string Name => checkpointName;

    public bool ReadsArchive => true;

    public TailPosition Position => _position;

    /// <summary>Phase changes this instance has published (confirmed by the broker).</summary>
    public long Published => Interlocked.Read(ref _count);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        _saved = await Checkpoints.LoadAsync(connection, checkpointName, cancellationToken);
        _position = _published = _saved ?? TailPosition.Start;
        _batch.Clear();
        _poisoned.Clear();
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
                _batch.Add(new PhaseChangedMessage(PhaseChangedMessage.SchemaV1, change.EventId, change.JobId, change.From, change.To, change.Direction,
                    change.Reason, change.DecidedAt, change.Policy, logEvent.Version));
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
    }

    public async Task IdleAsync(CancellationToken cancellationToken)
    {
        await PublishAsync(cancellationToken);
        if ((_saved ?? TailPosition.Start) != _published)
        {
            await SaveAsync(cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => IdleAsync(cancellationToken);

    async Task PublishAsync(CancellationToken cancellationToken)
    {
        if (_batch.Count > 0)
        {
            await transport.PublishAsync(_batch, cancellationToken);
            Interlocked.Add(ref _count, _batch.Count);
            LogPublished(_batch.Count, transport.Destination);
            _batch.Clear();
            _published = _position;
            await SaveAsync(cancellationToken);
            return;
        }
        _published = _position;
        if (_poisoned.Count > 0 || _sinceSave.Elapsed >= QuietCheckpointInterval)
        {
            await SaveAsync(cancellationToken);
        }
    }

    async Task SaveAsync(CancellationToken cancellationToken)
    {
        var retrying = _unconfirmed == _published;
        _unconfirmed = _published;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            if (await Checkpoints.AdvanceAsync(transaction, checkpointName, _saved, _published, retrying, cancellationToken))
            {
                await PoisonedEvents.RecordAsync(transaction, _poisoned, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
        }
        _saved = _published;
        _unconfirmed = null;
        _poisoned.Clear();
        _sinceSave.Restart();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Published {Count} phase changes to {Destination}")]
    partial void LogPublished(int count, string destination);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Relay} cannot read the phase change at {Position} of stream {StreamId}; it is recorded in es.poisoned_events and not published")]
    partial void LogUnreadable(Exception exception, string relay, string streamId, string position);
}
