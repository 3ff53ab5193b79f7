using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Projections.History;

namespace Streaming.Projections;

/// <summary>
/// Tails the event log into per-stream states held in memory and writes the changed ones, together with the checkpoint,
/// in one transaction: soon when the log is quiet, less often the busier it is (<see cref="FoldOptions"/>). A crash
/// loses only unwritten work, which the checkpoint makes it redo; nothing is applied twice to what was written.
/// Given <paramref name="applyArchivedSignal"/>, it first replays what the <see cref="HistoryArchive"/> holds after the
/// checkpoint, signals already read and handed to that function, then tails the log from where the archive ends.
/// </summary>
public sealed class BufferedFold<TState>(
    NpgsqlDataSource dataSource,
    IStreamFold<TState> fold,
    Func<TimeSpan, CancellationToken, Task> waitForEvents,
    FoldOptions options,
    ILogger logger,
    Func<TState, RecordedEvent, SignalRecorded, TState>? applyArchivedSignal = null) where TState : class
{
    readonly Streaming.EventStore.EventLog _log = new(dataSource);
    readonly Dictionary<string, TState> _states = new(StringComparer.Ordinal);
    readonly HashSet<string> _changed = new(StringComparer.Ordinal);
    TailPosition? _saved;
    TailPosition _position;
    ReadAhead? _readAhead;
    Task<IReadOnlyList<HistoryBlock>>? _archiveAhead;
    bool _archiveRead = applyArchivedSignal is null;
    long _handled;

    public TailPosition Position => _position;

    public long Handled => Interlocked.Read(ref _handled);

    /// <summary>How many of the events handled came from the history archive.</summary>
    public long FromArchive { get; private set; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await LoadCheckpointAsync(cancellationToken);
        logger.LogInformation("{Fold} resumes after {Position}", fold.Name, _position);
        var sinceFlush = Stopwatch.StartNew();
        long eventsSinceFlush = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var handled = await StepAsync(cancellationToken);
                eventsSinceFlush += handled;
                if (ShouldFlush(handled == 0, sinceFlush.Elapsed, eventsSinceFlush))
                {
                    await FlushAsync(cancellationToken);
                    sinceFlush.Restart();
                    eventsSinceFlush = 0;
                }
                if (handled == 0)
                {
                    await waitForEvents(options.PollInterval, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        if (_readAhead is { } abandoned)
        {
            await Task.WhenAny(abandoned.Read);
            _readAhead = null;
        }
        if (_archiveAhead is { } abandonedBlocks)
        {
            await Task.WhenAny(abandonedBlocks);
            _archiveAhead = null;
        }
        if (_changed.Count > 0)
        {
            // The host is stopping: write what was folded so the next start does not redo it.
            await FlushAsync(CancellationToken.None);
        }
    }

    /// <summary>Folds everything committed so far and writes it; for rebuilds, replays and tests.</summary>
    public async Task<long> CatchUpAsync(CancellationToken cancellationToken)
    {
        await LoadCheckpointAsync(cancellationToken);
        long total = 0, sinceFlush = 0;
        int handled;
        while ((handled = await StepAsync(cancellationToken)) > 0)
        {
            total += handled;
            sinceFlush += handled;
            if (_changed.Count >= options.MaxChanged || sinceFlush >= options.MaxCatchUpEvents)
            {
                await FlushAsync(cancellationToken);
                sinceFlush = 0;
            }
        }
        if (_changed.Count > 0)
        {
            await FlushAsync(cancellationToken);
        }
        return total;
    }

    bool ShouldFlush(bool quiet, TimeSpan sinceFlush, long eventsSinceFlush)
    {
        if (_changed.Count == 0)
        {
            return false;
        }
        if (quiet || _changed.Count >= options.MaxChanged || sinceFlush >= options.MaxFlushInterval)
        {
            return true;
        }
        return sinceFlush >= options.FlushInterval && eventsSinceFlush >= (long)_changed.Count * options.EventsPerChangedState;
    }

    async Task LoadCheckpointAsync(CancellationToken cancellationToken)
    {
        if (_saved is not null || _handled > 0)
        {
            return;
        }
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        _saved = await Checkpoints.LoadAsync(connection, fold.Name, cancellationToken);
        _position = _saved ?? TailPosition.Start;
        await fold.ResumeAsync(_position, cancellationToken);
    }

    async Task<int> StepAsync(CancellationToken cancellationToken)
    {
        if (!_archiveRead)
        {
            var archived = await StepArchiveAsync(cancellationToken);
            if (archived > 0)
            {
                return archived;
            }
            _archiveRead = true;
        }
        var events = await NextBatchAsync(cancellationToken);
        if (events.Count == 0)
        {
            return 0;
        }
        await LoadMissingAsync(events, cancellationToken);
        foreach (var recorded in events)
        {
            Fold(recorded, null);
            _position = recorded.Position;
        }
        Interlocked.Add(ref _handled, events.Count);
        await fold.AfterBatchAsync(cancellationToken);
        return events.Count;
    }

    // One block of the archive, the next read while this one is folded; 0 at the archive's end.
    async Task<int> StepArchiveAsync(CancellationToken cancellationToken)
    {
        var blocks = await (_archiveAhead ?? HistoryArchive.ReadAsync(dataSource, _position, 1, logger, cancellationToken));
        _archiveAhead = null;
        if (blocks is not [var block])
        {
            return 0;
        }
        _archiveAhead = Task.Run(() => HistoryArchive.ReadAsync(dataSource, block.End, 1, logger, cancellationToken), cancellationToken);
        await LoadMissingAsync(block.Events.Select(e => e.Event), cancellationToken);
        foreach (var (recorded, signal) in block.Events)
        {
            Fold(recorded, signal);
        }
        _position = block.End;
        Interlocked.Add(ref _handled, block.Events.Count);
        FromArchive += block.Events.Count;
        await fold.AfterBatchAsync(cancellationToken);
        return block.Events.Count;
    }

    // A signal already read (from the archive) goes to applyArchivedSignal; everything else to the fold as logged.
    void Fold(RecordedEvent recorded, SignalRecorded? signal)
    {
        if (_states.TryGetValue(recorded.StreamId, out var state))
        {
            _states[recorded.StreamId] = signal is not null ? applyArchivedSignal!(state, recorded, signal) : fold.Apply(state, recorded);
            _changed.Add(recorded.StreamId);
        }
        else
        {
            fold.Observe(recorded);
        }
    }

    // A full batch means more is waiting: its successor is read while this one is folded. Reading from the same
    // position earlier is as gap-free as reading it later (an older snapshot can only return fewer events).
    async Task<IReadOnlyList<RecordedEvent>> NextBatchAsync(CancellationToken cancellationToken)
    {
        var ahead = _readAhead;
        _readAhead = null;
        var events = ahead is not null && ahead.After == _position
            ? await ahead.Read
            : await _log.ReadTailAsync(_position, options.ReadBatchSize, cancellationToken);
        if (ahead is not null && ahead.After != _position)
        {
            await Task.WhenAny(ahead.Read);
        }
        if (events.Count == options.ReadBatchSize)
        {
            var after = events[^1].Position;
            _readAhead = new ReadAhead(after, _log.ReadTailAsync(after, options.ReadBatchSize, cancellationToken));
        }
        return events;
    }

    sealed record ReadAhead(TailPosition After, Task<IReadOnlyList<RecordedEvent>> Read);

    async Task LoadMissingAsync(IEnumerable<RecordedEvent> events, CancellationToken cancellationToken)
    {
        List<string>? missing = null;
        foreach (var recorded in events)
        {
            if (!_states.ContainsKey(recorded.StreamId) && fold.HasState(recorded.StreamId))
            {
                (missing ??= []).Add(recorded.StreamId);
                _states[recorded.StreamId] = null!;
            }
        }
        if (missing is null)
        {
            return;
        }
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var loaded = await fold.LoadAsync(connection, missing, cancellationToken);
        foreach (var streamId in missing)
        {
            _states[streamId] = loaded.TryGetValue(streamId, out var state) ? state : fold.Create(streamId);
        }
    }

    async Task FlushAsync(CancellationToken cancellationToken)
    {
        var changed = new List<KeyValuePair<string, TState>>(_changed.Count);
        foreach (var streamId in _changed)
        {
            changed.Add(new KeyValuePair<string, TState>(streamId, _states[streamId]));
        }
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await fold.SaveAsync(transaction, changed, cancellationToken);
        await Checkpoints.SaveAsync(transaction, fold.Name, _saved, _position, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        _saved = _position;
        _changed.Clear();
    }
}
