using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;

namespace Streaming.Projections.Tail;

/// <summary>
/// The one reader of the log in a process. It reads the log in commit order by <c>(commit, position)</c> (README,
/// Architecture), woken by the store's notifications (polling when they are down), decodes each event once, and hands the
/// same batches to every fold the process runs, each at its own pace with its own checkpoint. A fold's queue is bounded: a fold
/// that cannot keep up holds the reader back for a moment, then is left to catch up on its own (from the history archive
/// where it may, then the log) and rejoins, so a slow or failing fold never stops the others and never makes the reader
/// buffer without bound. Transient database and broker failures are waited out, by the reader and by each fold, with
/// backoff; anything else (a bug, a fenced instance) stops the tail, and with it the process.
/// </summary>
public sealed partial class LogTail
{
    public const string LoopName = "log-tail";

    static readonly Task Never = new TaskCompletionSource().Task;

    readonly NpgsqlDataSource _dataSource;
    readonly TailOptions _options;
    readonly LoopHealth _health;
    readonly ILogger _logger;
    readonly List<FoldSlot> _slots;
    readonly Lock _lock = new();
    readonly Queue<LogBatch> _ring = new();
    TaskCompletionSource _attached = NewSignal();
    LogWakeups? _wakeups;
    TailPosition _head;
    TailPosition _ringStart;
    int _ringEvents;
    long _jumps;
    long _reads;
    long _read;

    public LogTail(NpgsqlDataSource dataSource, IEnumerable<ILogFold> folds, TailOptions options, LoopHealth health, ILoggerFactory loggers)
    {
        _dataSource = dataSource;
        _options = options;
        _health = health;
        _logger = loggers.CreateLogger<LogTail>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        _slots = [];
        foreach (var fold in folds)
        {
            if (!names.Add(fold.Name))
            {
                throw new ArgumentException($"Two folds are named '{fold.Name}'", nameof(folds));
            }
            _slots.Add(new FoldSlot(fold, dataSource, options, health, loggers.CreateLogger(fold.GetType())));
        }
    }

    /// <summary>Reads of the log completed, events found or not: a heartbeat that stops moving when the reader is stuck.</summary>
    public long Reads => Interlocked.Read(ref _reads);

    /// <summary>Events the reader read and decoded.</summary>
    public long EventsRead => Interlocked.Read(ref _read);

    /// <summary>Where each fold is, whether the reader hands it the log, and how often it was left to catch up on its own.</summary>
    public IReadOnlyList<TailFoldState> Folds()
    {
        lock (_lock)
        {
            return [.. _slots.Select(s => new TailFoldState(s.Fold.Name, s.Fold.Position, s.Attached, s.QueuedEvents, s.Detachments))];
        }
    }

    internal Task Wakeup => _wakeups?.Next ?? Never;

    /// <summary>Runs the reader and every fold until cancelled; throws what stopped a fold or the reader for good.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (_slots.Count == 0)
        {
            return;
        }
        if (!_options.IsValid)
        {
            throw new ArgumentException("The tail's options are out of range", nameof(_options));
        }
        await using var wakeups = new LogWakeups(_dataSource, _options.ReconnectDelay, _logger);
        if (_options.Listen)
        {
            wakeups.Start();
            _wakeups = wakeups;
        }
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var begun = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = _slots.Select(slot => Task.Run(() => slot.RunAsync(this, begun.Task, stopping.Token), CancellationToken.None)).ToList();
        try
        {
            await WhenStartedAsync(running);
            lock (_lock)
            {
                // Every fold starts attached; the reader starts with the one furthest behind and the others skip what they have.
                _head = _slots.Select(s => s.Fold.Position).Min();
                _ringStart = _head;
                foreach (var slot in _slots)
                {
                    Attach(slot, slot.Fold.Position);
                }
            }
            begun.TrySetResult();
            running.Add(Task.Run(() => ReadAsync(stopping.Token), CancellationToken.None));
            await UntilFirstFailureAsync(running, stopping);
        }
        finally
        {
            begun.TrySetCanceled(CancellationToken.None);
            await stopping.CancelAsync();
            await Task.WhenAll(running.Select(r => r.ContinueWith(_ => { }, TaskScheduler.Default)));
            _wakeups = null;
        }
    }

    // Every fold loaded (or one failed starting, which ends the run).
    async Task WhenStartedAsync(List<Task> running)
    {
        var started = Task.WhenAll(_slots.Select(s => s.Started));
        var watched = new List<Task>(running) { started };
        while (!started.IsCompleted)
        {
            var first = await Task.WhenAny(watched);
            watched.Remove(first);
            if (first.IsFaulted)
            {
                await first;
            }
        }
        await started;
    }

    static async Task UntilFirstFailureAsync(List<Task> running, CancellationTokenSource stopping)
    {
        var remaining = new List<Task>(running);
        while (remaining.Count > 0)
        {
            var finished = await Task.WhenAny(remaining);
            remaining.Remove(finished);
            if (finished.IsFaulted)
            {
                await stopping.CancelAsync();
                ExceptionDispatchInfo.Throw(finished.Exception!.InnerExceptions[0]);
            }
        }
    }

    async Task ReadAsync(CancellationToken cancellationToken)
    {
        var source = new LogSource(_dataSource, _logger, _options.ReadBatchSize);
        var log = new EventLog(_dataSource);
        var outage = new Outage(LoopName, _health, _logger);
        var commits = new TailCommits();
        _health.Running(LoopName);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var wake = Wakeup;
                TailPosition from;
                long jumps;
                bool archive;
                TailPosition? archiveUpTo;
                Task? attached = null;
                lock (_lock)
                {
                    from = _head;
                    jumps = _jumps;
                    (archive, archiveUpTo) = ArchivePlan();
                    if (!_slots.Any(s => s.Attached))
                    {
                        attached = _attached.Task;
                    }
                }
                if (attached is not null)
                {
                    // Every fold is catching up on its own: nothing to read until one rejoins.
                    await attached.WaitAsync(cancellationToken);
                    continue;
                }
                LogBatch batch;
                try
                {
                    if (outage.InProgress)
                    {
                        // Asynchronous commits lost in a crash would be read again under the same numbers: stop instead.
                        await commits.VerifyAsync(log, cancellationToken);
                    }
                    batch = await source.ReadAsync(from, archive, cancellationToken, archiveUpTo);
                    if (outage.InProgress)
                    {
                        outage.Succeeded();
                    }
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested && TransientFaults.IsTransient(e))
                {
                    if (!await Outage.WaitAsync(outage.Failed(e, _options.MaxRetryDelay), cancellationToken))
                    {
                        return;
                    }
                    continue;
                }
                Interlocked.Increment(ref _reads);
                if (!batch.IsEmpty)
                {
                    Interlocked.Add(ref _read, batch.Count);
                    commits.Read(batch);
                    await DeliverAsync(batch, jumps, cancellationToken);
                    continue;
                }
                lock (_lock)
                {
                    SendIdle();
                }
                await WaitAsync(wake, _options.PollInterval, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _health.Failed(LoopName, $"{e.GetType().Name}: {e.Message}");
            LogReaderFailed(_logger, e);
            throw;
        }
    }

    // The archive's blocks are read only for folds that take them, and never past a fold that does not and is ahead.
    (bool Archive, TailPosition? UpTo) ArchivePlan()
    {
        TailPosition? upTo = null;
        foreach (var slot in _slots)
        {
            if (!slot.Attached || slot.Fold.ReadsArchive)
            {
                continue;
            }
            if (slot.QueuedEnd.CompareTo(_head) <= 0)
            {
                return (false, null);
            }
            if (upTo is null || slot.QueuedEnd.CompareTo(upTo.Value) < 0)
            {
                upTo = slot.QueuedEnd;
            }
        }
        return (true, upTo);
    }

    async Task DeliverAsync(LogBatch batch, long jumps, CancellationToken cancellationToken)
    {
        List<FoldSlot>? full = null;
        lock (_lock)
        {
            if (jumps != _jumps)
            {
                return;
            }
            foreach (var slot in _slots)
            {
                if (slot.Attached && slot.QueuedEnd.CompareTo(batch.End) < 0 && !Enqueue(slot, batch))
                {
                    (full ??= []).Add(slot);
                }
            }
            if (full is null)
            {
                Advance(batch);
                return;
            }
        }
        var deadline = DateTime.UtcNow + _options.StallTimeout;
        foreach (var slot in full)
        {
            var left = deadline - DateTime.UtcNow;
            await slot.WaitForRoomAsync(batch.Count, left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken);
        }
        lock (_lock)
        {
            if (jumps != _jumps)
            {
                return;
            }
            foreach (var slot in _slots)
            {
                if (slot.Attached && slot.QueuedEnd.CompareTo(batch.End) < 0 && !Enqueue(slot, batch))
                {
                    slot.Attached = false;
                    slot.Detachments++;
                    slot.Wake(dropQueued: false);
                    LogLeftBehind(_logger, slot.Fold.Name, slot.QueuedEvents, slot.InOutage ? "it is waiting out an outage" : "it did not keep up");
                }
            }
            Advance(batch);
        }
    }

    bool Enqueue(FoldSlot slot, LogBatch batch)
    {
        if (!slot.TryEnqueue(batch))
        {
            return false;
        }
        slot.QueuedEnd = batch.End;
        slot.IdleSent = false;
        return true;
    }

    void Advance(LogBatch batch)
    {
        _head = batch.End;
        _ring.Enqueue(batch);
        _ringEvents += batch.Count;
        // Recent batches stay at hand for a fold rejoining from a little behind the reader.
        while (_ring.Count > 1 && _ringEvents > _options.FoldQueueEvents / 2)
        {
            var dropped = _ring.Dequeue();
            _ringEvents -= dropped.Count;
            _ringStart = dropped.End;
        }
    }

    void SendIdle()
    {
        foreach (var slot in _slots)
        {
            if (slot.Attached && !slot.IdleSent)
            {
                slot.TryEnqueue(LogBatch.Empty(_head), force: true);
                slot.IdleSent = true;
            }
        }
    }

    /// <summary>
    /// A fold that caught up on its own asks to be handed the log again: granted when the reader is no further ahead
    /// than the recent batches it keeps (which are queued for the fold at once).
    /// </summary>
    internal bool TryAttach(FoldSlot slot)
    {
        var position = slot.Fold.Position;
        lock (_lock)
        {
            if (!_slots.Any(s => s.Attached))
            {
                // The reader idles while no fold is attached: it starts again from this one.
                _head = position;
                _ring.Clear();
                _ringEvents = 0;
                _ringStart = position;
                _jumps++;
                Attach(slot, position);
                var fired = _attached;
                _attached = NewSignal();
                fired.TrySetResult();
                return true;
            }
            if (position.CompareTo(_head) >= 0)
            {
                Attach(slot, position);
                return true;
            }
            if (position.CompareTo(_ringStart) < 0)
            {
                return false;
            }
            foreach (var batch in _ring)
            {
                if (batch.End.CompareTo(position) > 0)
                {
                    slot.TryEnqueue(batch, force: true);
                }
            }
            Attach(slot, _head);
            return true;
        }
    }

    /// <summary>The fold stops being handed the log (it moved back, or fell behind): it catches up on its own.</summary>
    internal void Detach(FoldSlot slot, bool dropQueued)
    {
        lock (_lock)
        {
            slot.Attached = false;
            slot.Wake(dropQueued);
        }
    }

    static void Attach(FoldSlot slot, TailPosition queuedEnd)
    {
        slot.Attached = true;
        slot.QueuedEnd = queuedEnd;
        slot.IdleSent = false;
    }

    // Waits for the wake-up or the timeout, whichever comes first, and drops the timer either way.
    static async Task WaitAsync(Task wake, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(timeout, timer.Token);
        await Task.WhenAny(wake, delay);
        await timer.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
    }

    static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(Level = LogLevel.Error, Message = "The log's reader stopped: it failed with an error that waiting does not cure")]
    static partial void LogReaderFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Fold} fell behind the log's reader ({Queued} events waiting; {Why}): it catches up on its own and rejoins")]
    static partial void LogLeftBehind(ILogger logger, string fold, int queued, string why);
}
