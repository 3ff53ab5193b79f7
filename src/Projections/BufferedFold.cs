using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;
using Streaming.Projections.Tail;

namespace Streaming.Projections;

/// <summary>
/// Runs an <see cref="IStreamFold{TState}"/> as a fold of the process's <see cref="LogTail"/>: per-stream states held in
/// memory, loaded when a stream first appears, and the changed ones written together with the checkpoint in one
/// transaction: soon when the log is quiet, less often the busier it is (<see cref="FoldOptions"/>). A crash loses only
/// unwritten work, which the checkpoint makes it redo; nothing is applied twice to what was written. An event the fold
/// cannot apply is skipped for its stream only, the stream's state marked (<see cref="IStreamFold{TState}.Poisoned"/>),
/// and recorded in <c>es.poisoned_events</c> with the checkpoint that passes it.
/// </summary>
public sealed partial class BufferedFold<TState>(
    NpgsqlDataSource dataSource,
    IStreamFold<TState> fold,
    FoldOptions options,
    ILogger logger,
    bool readsArchive = false) : ILogFold where TState : class
{
    readonly Dictionary<string, TState> _states = new(StringComparer.Ordinal);
    readonly HashSet<string> _changed = new(StringComparer.Ordinal);
    readonly List<PoisonedEvent> _poisoned = [];
    readonly Stopwatch _sinceWrite = Stopwatch.StartNew();
    TailPosition? _saved;
    TailPosition _position;
    TailPosition? _unconfirmed;
    long _eventsSinceWrite;
    long _handled;
    long _poisonedCount;

    public string Name => fold.Name;

    public bool ReadsArchive => readsArchive;

    public TailPosition Position => _position;

    public long Handled => Interlocked.Read(ref _handled);

    /// <summary>How many of the events handled came from the history archive.</summary>
    public long FromArchive { get; private set; }

    /// <summary>Events this instance could not apply and skipped.</summary>
    public long PoisonedCount => Interlocked.Read(ref _poisonedCount);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            _saved = await Checkpoints.LoadAsync(connection, fold.Name, cancellationToken);
        }
        _position = _saved ?? TailPosition.Start;
        _states.Clear();
        _changed.Clear();
        _poisoned.Clear();
        await fold.ResumeAsync(_position, cancellationToken);
        LogResuming(fold.Name, _position.ToString());
    }

    public async Task ApplyAsync(LogBatch batch, CancellationToken cancellationToken)
    {
        var events = batch.After(_position);
        if (events.Count > 0)
        {
            await LoadMissingAsync(events, cancellationToken);
            foreach (var logEvent in events)
            {
                Fold(logEvent);
                _position = logEvent.Position;
            }
            _eventsSinceWrite += events.Count;
            Interlocked.Add(ref _handled, events.Count);
            if (batch.FromArchive)
            {
                FromArchive += events.Count;
            }
        }
        await fold.CommitAsync(cancellationToken);
        if (ShouldWrite())
        {
            await WriteAsync(cancellationToken);
        }
    }

    public async Task IdleAsync(CancellationToken cancellationToken)
    {
        await fold.CommitAsync(cancellationToken);
        if (_changed.Count > 0 || _poisoned.Count > 0 || (_saved ?? TailPosition.Start) != _position)
        {
            await WriteAsync(cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => IdleAsync(cancellationToken);

    bool ShouldWrite()
    {
        if (_changed.Count == 0 && _poisoned.Count == 0)
        {
            return false;
        }
        var sinceWrite = _sinceWrite.Elapsed;
        return _changed.Count >= options.MaxChanged
            || _eventsSinceWrite >= options.MaxEventsPerWrite
            || sinceWrite >= options.MaxFlushInterval
            || sinceWrite >= options.FlushInterval && _eventsSinceWrite >= (long)_changed.Count * options.EventsPerChangedState;
    }

    void Fold(LogEvent logEvent)
    {
        var streamId = logEvent.StreamId;
        ref var state = ref CollectionsMarshal.GetValueRefOrNullRef(_states, streamId);
        if (Unsafe.IsNullRef(ref state))
        {
            try
            {
                fold.Observe(logEvent);
            }
            catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException))
            {
                Poison(logEvent, e);
            }
            return;
        }
        try
        {
            state = fold.Apply(state, logEvent);
        }
        catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException))
        {
            state = fold.Poisoned(state);
            Poison(logEvent, e);
        }
        _changed.Add(streamId);
    }

    void Poison(LogEvent logEvent, Exception exception)
    {
        var poisoned = PoisonedEvent.Of(fold.Name, logEvent, exception);
        _poisoned.Add(poisoned);
        // Each is recorded; the log says so for the first ones, then now and then, so a flood cannot drown it.
        var count = Interlocked.Increment(ref _poisonedCount);
        if (count <= 20 || count % 1_000 == 0)
        {
            LogPoisoned(exception, fold.Name, logEvent.StreamId, logEvent.Type, logEvent.Position.ToString(), count, poisoned.Error);
        }
    }

    // States of streams first seen in this batch, loaded before any is folded; nothing changes in memory when it fails.
    async Task LoadMissingAsync(ArraySegment<LogEvent> events, CancellationToken cancellationToken)
    {
        List<string>? missing = null;
        HashSet<string>? seen = null;
        foreach (var logEvent in events)
        {
            var streamId = logEvent.StreamId;
            if (!_states.ContainsKey(streamId) && fold.HasState(streamId) && (seen ??= new HashSet<string>(StringComparer.Ordinal)).Add(streamId))
            {
                (missing ??= []).Add(streamId);
            }
        }
        if (missing is null)
        {
            return;
        }
        IReadOnlyDictionary<string, TState> loaded;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            loaded = await fold.LoadAsync(connection, missing, cancellationToken);
        }
        foreach (var streamId in missing)
        {
            _states[streamId] = loaded.TryGetValue(streamId, out var state) ? state : fold.Create(streamId);
        }
    }

    async Task WriteAsync(CancellationToken cancellationToken)
    {
        var changed = new List<KeyValuePair<string, TState>>(_changed.Count);
        foreach (var streamId in _changed)
        {
            changed.Add(new KeyValuePair<string, TState>(streamId, _states[streamId]));
        }
        var retrying = _unconfirmed == _position;
        _unconfirmed = _position;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            if (await Checkpoints.AdvanceAsync(transaction, fold.Name, _saved, _position, retrying, cancellationToken))
            {
                await fold.SaveAsync(transaction, changed, cancellationToken);
                await PoisonedEvents.RecordAsync(transaction, _poisoned, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
        }
        _saved = _position;
        _unconfirmed = null;
        _changed.Clear();
        _poisoned.Clear();
        _eventsSinceWrite = 0;
        _sinceWrite.Restart();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Fold} resumes after {Position}")]
    partial void LogResuming(string fold, string position);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "{Fold} cannot apply {EventType} at {Position} of stream {StreamId} ({Count} so far); it skips the event for that stream, records it in es.poisoned_events and goes on: {Error}")]
    partial void LogPoisoned(Exception exception, string fold, string streamId, string eventType, string position, long count, string error);
}
