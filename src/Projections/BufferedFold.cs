using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;
using Streaming.Projections.Checkpointing;
using Streaming.Projections.Tail;

namespace Streaming.Projections;

/// <summary>
/// Runs an <see cref="IStreamFold{TState}"/> as a fold of the process's <see cref="LogTail"/>: per-stream states held in
/// memory, loaded when a stream first appears, and the changed ones written together with the checkpoint in one
/// transaction, on timers (<see cref="FoldOptions"/>): at most once per <see cref="FoldOptions.FlushInterval"/>, less
/// often the busier the log is, the checkpoint alone every few seconds when only it moved; never merely because the log
/// went quiet. A crash loses only unwritten work, which the checkpoint makes it redo (so the writes need no synchronous
/// commit); nothing is applied twice to what was written. An event the fold
/// cannot apply is skipped for its stream only, the stream's state marked (<see cref="IStreamFold{TState}.Poisoned"/>),
/// and recorded in <c>es.poisoned_events</c> with the checkpoint that passes it.
/// <para>
/// Given several instances of a fold whose streams are independent of one another (each stream's state depends only on
/// its own events and the control streams), it folds a batch on all of them at once, each taking its share of the
/// streams and every control event in its place: what a rebuild on several cores does. The result is the same.
/// </para>
/// </summary>
public sealed partial class BufferedFold<TState>(
    NpgsqlDataSource dataSource,
    IReadOnlyList<IStreamFold<TState>> partitions,
    FoldOptions options,
    ILogger logger,
    bool readsArchive = false) : ILogFold where TState : class
{
    readonly Partition[] _partitions = [.. partitions.Select(fold => new Partition(fold))];
    readonly FoldCheckpoint _checkpoint = new(partitions[0].Name);
    readonly Stopwatch _sinceFolded = Stopwatch.StartNew();
    LogPositions _position = LogPositions.Start(0);
    // A write beside the fold (FoldOptions.WriteAside): in flight or not yet looked at; and the write itself, kept
    // until it is known to have committed, so one that failed is done again with the same rows and checkpoint.
    Task? _writing;
    Func<CancellationToken, Task>? _aside;
    long _eventsSinceWrite;
    long _handled;
    long _poisonedCount;

    public BufferedFold(NpgsqlDataSource dataSource, IStreamFold<TState> fold, FoldOptions options, ILogger logger, bool readsArchive = false)
        : this(dataSource, [fold], options, logger, readsArchive)
    {
    }

    IStreamFold<TState> First => _partitions[0].Fold;

    public string Name => First.Name;

    public bool ReadsArchive => readsArchive;

    public LogPositions Position => _position;

    public long Handled => Interlocked.Read(ref _handled);

    /// <summary>How many of the events handled came from the history archive.</summary>
    public long FromArchive { get; private set; }

    /// <summary>Transactions this instance committed to save its states and checkpoint.</summary>
    public long Commits => _checkpoint.Commits;

    /// <summary>Events this instance could not apply and skipped.</summary>
    public long PoisonedCount => Interlocked.Read(ref _poisonedCount);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_writing is { } writing)
        {
            // A write of the last run still in flight ends before the checkpoint is loaded.
            await writing.ContinueWith(_ => { }, TaskScheduler.Default);
        }
        // What the last run did not write is folded again from the checkpoint: its write is not done again, since it may
        // hold partitions this run does not follow, or one another instance moved (the run ended for that).
        _writing = null;
        _aside = null;
        _position = await _checkpoint.LoadAsync(dataSource, cancellationToken);
        _eventsSinceWrite = 0;
        foreach (var partition in _partitions)
        {
            partition.Clear();
            await partition.Fold.ResumeAsync(_position, cancellationToken);
        }
        LogResuming(Name, _position.ToString());
    }

    public async Task ApplyAsync(LogBatch batch, CancellationToken cancellationToken)
    {
        var events = batch.After(_position);
        if (events.Count > 0)
        {
            await LoadMissingAsync(events, cancellationToken);
            var before = _position;
            if (_partitions.Length == 1)
            {
                FoldPartition(0, events, before);
            }
            else
            {
                Parallel.For(0, _partitions.Length, p => FoldPartition(p, events, before));
            }
            _eventsSinceWrite += events.Count;
            _sinceFolded.Restart();
            Interlocked.Add(ref _handled, events.Count);
            if (batch.FromArchive)
            {
                FromArchive += events.Count;
            }
        }
        // Past the batch's end even where it handed nothing (a partition read for its control streams only).
        _position = _position.Max(batch.End);
        await CommitAsync(cancellationToken);
        if (await WriteSettledAsync(cancellationToken) && ShouldWrite(quiet: false))
        {
            await WriteAsync(options.WriteAside, cancellationToken);
        }
    }

    public async Task TickAsync(CancellationToken cancellationToken)
    {
        await CommitAsync(cancellationToken);
        // Quiet only when nothing was folded for a while (QuietAfter): a pause between two batches of a busy log is not
        // quiet, and writing in it would write as often as the log pauses.
        var quiet = _sinceFolded.Elapsed >= (options.QuietAfter ?? options.FlushInterval);
        if (await WriteSettledAsync(cancellationToken) && ShouldWrite(quiet))
        {
            // A quiet log has no load to spread the writes over: what waits is written too, all of it.
            if (quiet && !options.WriteAside)
            {
                await WriteEveryWaitingAsync(cancellationToken);
            }
            else
            {
                await WriteAsync(options.WriteAside, cancellationToken, everyWaiting: quiet);
            }
        }
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await CommitAsync(cancellationToken);
        if (_writing is { } writing)
        {
            // Stopping: what is in flight ends first (a failure leaves it to be done again, below).
            await writing.ContinueWith(_ => { }, TaskScheduler.Default);
        }
        await WriteSettledAsync(cancellationToken);
        if (_partitions.Any(p => p.Changed.Count > 0 || p.Poisoned.Count > 0) || _checkpoint.Resumed != _position)
        {
            await WriteEveryWaitingAsync(cancellationToken);
        }
    }

    // False while a write beside the fold is in flight (the checkpoint is its own until it ends). One that failed is
    // done again here, on the fold's loop, with the same rows at the same position, so a commit whose acknowledgement
    // was lost is found done; its failure goes to the fold's loop like any other.
    async Task<bool> WriteSettledAsync(CancellationToken cancellationToken)
    {
        if (_writing is { } writing)
        {
            if (!writing.IsCompleted)
            {
                return false;
            }
            _writing = null;
            if (writing.IsCompletedSuccessfully)
            {
                _aside = null;
                return true;
            }
        }
        if (_aside is { } aside)
        {
            await aside(cancellationToken);
            _aside = null;
        }
        return true;
    }

    async Task CommitAsync(CancellationToken cancellationToken)
    {
        foreach (var partition in _partitions)
        {
            await partition.Fold.CommitAsync(cancellationToken);
        }
    }

    // Quiet: nothing arrived for a while, so there is no load to spread the writes over.
    bool ShouldWrite(bool quiet)
    {
        var changed = 0;
        var poisoned = false;
        var waiting = false;
        var waitingDue = false;
        foreach (var partition in _partitions)
        {
            changed += partition.Changed.Count;
            poisoned |= partition.Poisoned.Count > 0;
            waiting |= partition.Waiting.Count > 0;
            waitingDue |= options.WaitingWriteInterval is { } wait && partition.Waiting.AnyDue(wait);
        }
        var sinceWrite = _checkpoint.SinceSave;
        if (waiting && (quiet || waitingDue && sinceWrite >= options.FlushInterval))
        {
            return true;
        }
        if (changed == 0 && !poisoned)
        {
            // Only the checkpoint moved: it is saved every few seconds. (With states changed, their timers decide:
            // the checkpoint's quiet interval must not make a fold that writes rarely write every few seconds.)
            return _checkpoint.QuietSaveDue(SavablePosition());
        }
        return quiet
            || changed >= options.MaxChanged
            || _eventsSinceWrite >= options.MaxEventsPerWrite
            || sinceWrite >= options.MaxFlushInterval
            || sinceWrite >= options.FlushInterval && _eventsSinceWrite >= (long)changed * options.EventsPerChangedState;
    }

    // Where the checkpoint can be saved: before every change still waiting to be written.
    LogPositions SavablePosition()
    {
        var savable = _position;
        foreach (var partition in _partitions)
        {
            savable = partition.Waiting.Savable(savable);
        }
        return savable;
    }

    // A partition folds its own streams' events and every control event, in log order; `before`: where the fold was
    // before the events, from which a restart folds a change that waits again.
    void FoldPartition(int index, ArraySegment<LogEvent> events, LogPositions before)
    {
        var partition = _partitions[index];
        var waits = options.WaitingWriteInterval is not null;
        foreach (var logEvent in events)
        {
            var streamId = logEvent.StreamId;
            ref var state = ref CollectionsMarshal.GetValueRefOrNullRef(partition.States, streamId);
            if (Unsafe.IsNullRef(ref state))
            {
                if (partition.Fold.HasState(streamId))
                {
                    // Another partition's stream.
                    continue;
                }
                try
                {
                    partition.Fold.Observe(logEvent);
                }
                catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException))
                {
                    // Every partition meets a control event; one records it.
                    if (index == 0)
                    {
                        Poison(partition, logEvent, e);
                    }
                }
                continue;
            }
            var previous = state;
            try
            {
                state = partition.Fold.Apply(state, logEvent);
            }
            catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException))
            {
                state = partition.Fold.Poisoned(state);
                Poison(partition, logEvent, e);
                partition.Waiting.Remove(streamId);
                partition.Changed.Add(streamId);
                continue;
            }
            if (waits && !partition.Changed.Contains(streamId) && partition.Fold.CanWait(previous, state))
            {
                partition.Waiting.Add(streamId, before);
            }
            else if (partition.Changed.Add(streamId))
            {
                partition.Waiting.Remove(streamId);
            }
        }
    }

    void Poison(Partition partition, LogEvent logEvent, Exception exception)
    {
        var poisoned = PoisonedEvent.Of(Name, logEvent, exception);
        partition.Poisoned.Add(poisoned);
        // Each is recorded; the log says so for the first ones, then now and then, so a flood cannot drown it.
        var count = Interlocked.Increment(ref _poisonedCount);
        if (count <= 20 || count % 1_000 == 0)
        {
            LogPoisoned(exception, Name, logEvent.StreamId, logEvent.Type, logEvent.Position.ToString(), count, poisoned.Error);
        }
    }

    int PartitionOf(string streamId) => _partitions.Length == 1 ? 0 : (int)((uint)streamId.GetHashCode() % (uint)_partitions.Length);

    // States of streams first seen in this batch, loaded before any is folded; nothing changes in memory when it fails.
    async Task LoadMissingAsync(ArraySegment<LogEvent> events, CancellationToken cancellationToken)
    {
        List<string>? missing = null;
        HashSet<string>? seen = null;
        HashSet<int>? logPartitions = null;
        foreach (var logEvent in events)
        {
            var streamId = logEvent.StreamId;
            if (!_partitions[PartitionOf(streamId)].States.ContainsKey(streamId) && First.HasState(streamId)
                && (seen ??= new HashSet<string>(StringComparer.Ordinal)).Add(streamId))
            {
                (missing ??= []).Add(streamId);
                (logPartitions ??= []).Add(logEvent.Event.Partition);
            }
        }
        if (missing is null)
        {
            return;
        }
        IReadOnlyDictionary<string, TState> loaded;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            loaded = await First.LoadAsync(connection, missing, cancellationToken);
            // States and checkpoint commit together, and a checkpoint only moves on: read after the states, a checkpoint
            // at or before this fold's position means the states hold nothing past it. One past it was saved by another
            // instance since this one loaded its checkpoint (one that lost the partitions and wrote late): fenced.
            await _checkpoint.RefuseIfPassedAsync(connection, _position, logPartitions!, cancellationToken);
        }
        foreach (var streamId in missing)
        {
            var partition = _partitions[PartitionOf(streamId)];
            partition.States[streamId] = loaded.TryGetValue(streamId, out var state) ? state : partition.Fold.Create(streamId);
        }
    }

    // everyWaiting: the changes that wait are written too, not only those whose interval is up; as many as MaxChanged
    // leaves room for, since a write holds its rows in memory.
    async Task WriteAsync(bool aside, CancellationToken cancellationToken, bool everyWaiting = false)
    {
        var write = Prepare(everyWaiting, upcoming: null);
        if (aside)
        {
            _aside = write;
            _writing = Task.Run(() => write(cancellationToken), CancellationToken.None);
        }
        else
        {
            await write(cancellationToken);
        }
        Written();
    }

    // Everything changed and everything waiting, a write's worth (MaxChanged) at a time, one transaction after another
    // (each one's checkpoint before the changes still waiting); while one commits, the next one's rows are computed.
    async Task WriteEveryWaitingAsync(CancellationToken cancellationToken)
    {
        var write = Prepare(everyWaiting: true, upcoming: null);
        while (true)
        {
            var committing = write(cancellationToken);
            var upcoming = _partitions.Any(p => p.Waiting.Count > 0) ? Task.Run(PrepareUpcoming, CancellationToken.None) : null;
            try
            {
                await committing;
            }
            finally
            {
                // Nothing may change the states or what waits before it ends.
                if (upcoming is not null)
                {
                    await upcoming.ContinueWith(_ => { }, TaskScheduler.Default);
                }
            }
            Written();
            if (upcoming is null)
            {
                return;
            }
            write = Prepare(everyWaiting: true, upcoming.IsCompletedSuccessfully ? upcoming.Result : null);
        }
    }

    // Takes what the write holds (the changed streams, and the waiting ones it has room for) and computes its rows,
    // unless `upcoming` computed them for exactly these states already.
    Func<CancellationToken, Task> Prepare(bool everyWaiting, PreparedRows? upcoming)
    {
        foreach (var partition in _partitions)
        {
            // Taken into the write's set: written with it, or folded again after a crash from the checkpoint before them.
            var room = options.MaxChanged - _partitions.Sum(p => p.Changed.Count);
            partition.Waiting.Take(everyWaiting ? null : options.WaitingWriteInterval, Math.Max(0, room), partition.Changed);
        }
        var changed = new List<KeyValuePair<string, TState>>(_partitions.Sum(p => p.Changed.Count));
        var poisoned = new List<PoisonedEvent>();
        foreach (var partition in _partitions)
        {
            foreach (var streamId in partition.Changed)
            {
                changed.Add(new KeyValuePair<string, TState>(streamId, partition.States[streamId]));
            }
            poisoned.AddRange(partition.Poisoned);
        }
        // Every partition has seen every control event, so any of them can say what a row needs beyond its state; the
        // rows are computed here, before the transaction opens.
        var save = upcoming is not null && upcoming.Holds(changed) ? upcoming.Save : First.PrepareSave(changed);
        var position = SavablePosition();
        return token => _checkpoint.SaveAsync(dataSource, position, async (transaction, t) =>
        {
            await save(transaction, t);
            await PoisonedEvents.RecordAsync(transaction, poisoned, t);
        }, token);
    }

    // The rows of the write after the one in flight: it will take the earliest waiting changes, and nothing else, since
    // the write in flight holds every other change.
    PreparedRows PrepareUpcoming()
    {
        var changed = new List<KeyValuePair<string, TState>>();
        foreach (var partition in _partitions)
        {
            foreach (var streamId in partition.Waiting.Earliest(options.MaxChanged - changed.Count))
            {
                changed.Add(new KeyValuePair<string, TState>(streamId, partition.States[streamId]));
            }
        }
        return new PreparedRows(changed, First.PrepareSave(changed));
    }

    void Written()
    {
        foreach (var partition in _partitions)
        {
            partition.Changed.Clear();
            partition.Poisoned.Clear();
        }
        _eventsSinceWrite = 0;
    }

    /// <summary>A write's states and the statements computed from them (<see cref="IStreamFold{TState}.PrepareSave"/>).</summary>
    sealed record PreparedRows(IReadOnlyList<KeyValuePair<string, TState>> Changed, Func<NpgsqlTransaction, CancellationToken, Task> Save)
    {
        /// <summary>Whether the rows were computed from these very states, in this order.</summary>
        public bool Holds(IReadOnlyList<KeyValuePair<string, TState>> changed)
        {
            if (changed.Count != Changed.Count)
            {
                return false;
            }
            for (var i = 0; i < changed.Count; i++)
            {
                if (!string.Equals(changed[i].Key, Changed[i].Key, StringComparison.Ordinal) || !ReferenceEquals(changed[i].Value, Changed[i].Value))
                {
                    return false;
                }
            }
            return true;
        }
    }

    /// <summary>One instance of the fold with the streams it holds.</summary>
    sealed class Partition(IStreamFold<TState> fold)
    {
        public IStreamFold<TState> Fold => fold;

        public Dictionary<string, TState> States { get; } = new(StringComparer.Ordinal);

        public HashSet<string> Changed { get; } = new(StringComparer.Ordinal);

        public WaitingStates Waiting { get; } = new();

        public List<PoisonedEvent> Poisoned { get; } = [];

        public void Clear()
        {
            States.Clear();
            Changed.Clear();
            Waiting.Clear();
            Poisoned.Clear();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Fold} resumes after {Position}")]
    partial void LogResuming(string fold, string position);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "{Fold} cannot apply {EventType} at {Position} of stream {StreamId} ({Count} so far); it skips the event for that stream, records it in es.poisoned_events and goes on: {Error}")]
    partial void LogPoisoned(Exception exception, string fold, string streamId, string eventType, string position, long count, string error);
}
