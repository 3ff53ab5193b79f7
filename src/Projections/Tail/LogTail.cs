using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;

namespace Streaming.Projections.Tail;

/// <summary>
/// The one reader of the log in a process. It reads every log partition the process follows, each in its commit order by
/// <c>(commit, position)</c> and all in one query (README, Architecture), woken by the store's notifications
/// (polling when they are down), decodes each event once, and hands the same batches to every fold the process runs, each
/// at its own pace with its own checkpoint. Each fold's queue is a bounded channel with one reader, the fold's loop: a
/// fold that cannot keep up holds the reader back for a moment, then its channel is closed and it catches up on its own
/// (from the history archive where it may, then the log) and asks to rejoin, so a slow or failing fold never stops the
/// others and never makes the reader buffer without bound. The reader alone decides who is handed the log: folds ask it
/// through its request channel. Transient database and broker failures are waited out, by the reader and by each fold,
/// with backoff; anything else (a bug, a fenced instance) stops the tail, and with it the process (unless a
/// <see cref="Ownership.ShareFollower"/> runs it: that drops a fenced partition and runs the tail again over the rest).
/// </summary>
public sealed partial class LogTail
{
    public const string LoopName = "log-tail";

    static readonly Task Never = new TaskCompletionSource().Task;

    readonly NpgsqlDataSource _dataSource;
    readonly TailOptions _options;
    readonly LoopHealth _health;
    readonly ILogger _logger;
    readonly IReadOnlyList<ILogFold> _folds;
    readonly ILoggerFactory _loggers;
    // A run's: the folds' places and their requests, made anew by each run (a process owning a share of the log runs the
    // tail again whenever its share changes).
    volatile List<FoldSlot> _slots = [];
    Channel<FoldRequest> _requests = NewRequests();
    FollowedPartitions? _followed;

    // The reader's own state: touched by the reading loop only (and by RunAsync before it starts).
    readonly Queue<LogBatch> _ring = new();
    LogPositions _head = LogPositions.Start(0);
    LogPositions _ringStart = LogPositions.Start(0);
    int _ringEvents;
    Task<bool>? _requested;

    LogWakeups? _wakeups;
    long _reads;
    long _read;

    public LogTail(NpgsqlDataSource dataSource, IEnumerable<ILogFold> folds, TailOptions options, LoopHealth health, ILoggerFactory loggers)
    {
        _dataSource = dataSource;
        _options = options;
        _health = health;
        _logger = loggers.CreateLogger<LogTail>();
        _loggers = loggers;
        _folds = [.. folds];
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var fold in _folds)
        {
            if (!names.Add(fold.Name))
            {
                throw new ArgumentException($"Two folds are named '{fold.Name}'", nameof(folds));
            }
        }
    }

    /// <summary>Whether the process runs any fold on this tail.</summary>
    public bool HasFolds => _folds.Count > 0;

    /// <summary>Reads of the log completed, events found or not: a heartbeat that stops moving when the reader is stuck.</summary>
    public long Reads => Interlocked.Read(ref _reads);

    /// <summary>Events the reader read and decoded.</summary>
    public long EventsRead => Interlocked.Read(ref _read);

    /// <summary>Where each fold is, whether the reader hands it the log, and how often it was left to catch up on its own.</summary>
    public IReadOnlyList<TailFoldState> Folds() => [.. _slots.Select(s => s.State())];

    internal Task Wakeup => _wakeups?.Next ?? Never;

    /// <summary>Runs the reader and every fold over every partition of the log until cancelled; throws what stopped a fold or the reader for good.</summary>
    public Task RunAsync(CancellationToken cancellationToken) => RunAsync(null, cancellationToken);

    /// <summary>
    /// Runs the reader and every fold over <paramref name="followed"/> (every partition when null) until cancelled: each
    /// fold starts from its checkpoints of those partitions, and writes what it holds when cancelled. Throws what stopped
    /// a fold or the reader for good. One run at a time; a run after another starts every fold afresh.
    /// <paramref name="started"/> is called once every fold has loaded, as the reader starts.
    /// </summary>
    public async Task RunAsync(FollowedPartitions? followed, CancellationToken cancellationToken, Action? started = null)
    {
        if (_folds.Count == 0)
        {
            return;
        }
        if (!_options.IsValid)
        {
            throw new ArgumentException("The tail's options are out of range", nameof(_options));
        }
        // The folds' checkpoints load this run's partitions (FollowedPartitions.ReadAsync) in the tasks started below.
        FollowedPartitions.Use(followed);
        _followed = followed;
        _requests = NewRequests();
        _requested = null;
        _ring.Clear();
        _ringEvents = 0;
        _head = _ringStart = LogPositions.Start(0);
        _slots = [.. _folds.Select(fold => new FoldSlot(fold, _dataSource, _options, _health, _loggers.CreateLogger(fold.GetType())))];
        await using var wakeups = new LogWakeups(_dataSource, _options.ReconnectDelay, _logger);
        if (_options.Listen)
        {
            wakeups.Start();
            _wakeups = wakeups;
        }
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var running = _slots.Select(slot => Task.Run(() => slot.RunAsync(this, stopping.Token), CancellationToken.None)).ToList();
        try
        {
            await WhenStartedAsync(running);
            // Every fold starts attached; the reader starts with the one furthest behind and the others skip what they have.
            _head = LogPositions.Min(_slots.Select(s => s.Fold.Position));
            _ringStart = _head;
            foreach (var slot in _slots)
            {
                slot.Begin(Connect(slot, slot.Fold.Position));
            }
            running.Add(Task.Run(() => ReadAsync(stopping.Token), CancellationToken.None));
            started?.Invoke();
            await UntilFirstFailureAsync(running, stopping);
        }
        finally
        {
            await stopping.CancelAsync();
            await Task.WhenAll(running.Select(r => r.ContinueWith(_ => { }, TaskScheduler.Default)));
            _wakeups = null;
        }
    }

    /// <summary>What this run follows (null: every partition).</summary>
    internal FollowedPartitions? Followed => _followed;

    static Channel<FoldRequest> NewRequests() => Channel.CreateUnbounded<FoldRequest>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>
    /// A fold that caught up on its own asks to be handed the log again; the answer is its new queue, or null when the
    /// reader is further ahead than the recent batches it keeps (the fold reads on, and asks again).
    /// </summary>
    internal async Task<ChannelReader<LogBatch>?> JoinAsync(FoldSlot slot, LogPositions position, CancellationToken cancellationToken)
    {
        var join = new FoldRequest.Join(slot, position);
        await _requests.Writer.WriteAsync(join, cancellationToken);
        return await join.Answer.Task.WaitAsync(cancellationToken);
    }

    /// <summary>The fold stops being handed the log (it moved back to an earlier checkpoint): its queue is closed.</summary>
    internal void Leave(FoldSlot slot, ChannelReader<LogBatch> queue) => _requests.Writer.TryWrite(new FoldRequest.Leave(slot, queue));

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
        var source = new LogSource(_dataSource, _logger, _options.ReadBatchSize, _followed);
        var log = new EventLog(_dataSource);
        var outage = new Outage(LoopName, _health, _logger);
        var commits = new TailCommits();
        _health.Running(LoopName);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                Answer();
                if (!_slots.Any(s => s.Attached))
                {
                    // Every fold is catching up on its own: nothing to read until one asks to rejoin.
                    await Requested(cancellationToken);
                    continue;
                }
                var wake = Wakeup;
                var (archive, archiveUpTo) = ArchivePlan();
                LogBatch batch;
                try
                {
                    if (outage.InProgress)
                    {
                        // Asynchronous commits lost in a crash would be read again under the same numbers: stop instead.
                        await commits.VerifyAsync(log, cancellationToken);
                    }
                    batch = await source.ReadAsync(_head, archive, cancellationToken, archiveUpTo);
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
                    await DeliverAsync(batch, cancellationToken);
                    continue;
                }
                // Nothing new: wait for a notification, a fold's request or the poll. Empty reads are handed to no fold.
                await WaitAsync(Task.WhenAny(wake, Requested(cancellationToken)), _options.PollInterval, cancellationToken);
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

    // One wait for the folds' requests at a time, kept across reads until a request comes.
    Task<bool> Requested(CancellationToken cancellationToken) =>
        _requested is { IsCompleted: false } pending ? pending : _requested = _requests.Reader.WaitToReadAsync(cancellationToken).AsTask();

    // The folds' requests since the last read, answered in order.
    void Answer()
    {
        while (_requests.Reader.TryRead(out var request))
        {
            switch (request)
            {
                case FoldRequest.Join join:
                    join.Answer.TrySetResult(Rejoin(join.Slot, join.Position));
                    break;
                case FoldRequest.Leave leave when leave.Slot.IsFedBy(leave.Queue):
                    leave.Slot.Disconnect();
                    break;
            }
        }
    }

    ChannelReader<LogBatch>? Rejoin(FoldSlot slot, LogPositions position)
    {
        if (!_slots.Any(s => s.Attached))
        {
            // The reader idles while no fold is attached: it starts again from this one.
            _head = position;
            _ring.Clear();
            _ringEvents = 0;
            _ringStart = position;
            return Connect(slot, position);
        }
        if (position.Covers(_head))
        {
            return Connect(slot, position);
        }
        if (!position.Covers(_ringStart))
        {
            return null;
        }
        var queue = Connect(slot, _head);
        foreach (var batch in _ring)
        {
            if (!position.Covers(batch.End))
            {
                slot.Enqueue(batch, force: true);
            }
        }
        return queue;
    }

    ChannelReader<LogBatch> Connect(FoldSlot slot, LogPositions queuedEnd) =>
        slot.Connect(Channel.CreateBounded<LogBatch>(new BoundedChannelOptions(_options.FoldQueueEvents)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        }), queuedEnd);

    // The archive's blocks are read only for folds that take them, and never past a fold that does not and is ahead: per
    // partition, up to the earliest such fold's queue (none of a partition where one of them is at the reader already).
    (bool Archive, LogPositions? UpTo) ArchivePlan()
    {
        LogPositions? upTo = null;
        foreach (var slot in _slots)
        {
            if (!slot.Attached || slot.Fold.ReadsArchive)
            {
                continue;
            }
            if (_head.Covers(slot.QueuedEnd))
            {
                return (false, null);
            }
            upTo = upTo is null ? slot.QueuedEnd : upTo.Min(slot.QueuedEnd);
        }
        return (true, upTo);
    }

    async Task DeliverAsync(LogBatch batch, CancellationToken cancellationToken)
    {
        List<FoldSlot>? full = null;
        foreach (var slot in _slots)
        {
            if (slot.Attached && !slot.QueuedEnd.Covers(batch.End) && !slot.Enqueue(batch))
            {
                (full ??= []).Add(slot);
            }
        }
        if (full is not null)
        {
            var deadline = DateTime.UtcNow + _options.StallTimeout;
            foreach (var slot in full)
            {
                if (!await slot.WaitForRoomAsync(batch.Count, deadline, cancellationToken) || !slot.Enqueue(batch))
                {
                    LogLeftBehind(_logger, slot.Fold.Name, slot.QueuedEvents, slot.InOutage ? "it is waiting out an outage" : "it did not keep up");
                    slot.Disconnect(leftBehind: true);
                }
            }
        }
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

    /// <summary>Waits for <paramref name="wake"/> or the timeout, whichever comes first, and drops the timer either way.</summary>
    internal static async Task WaitAsync(Task wake, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(timeout, timer.Token);
        await Task.WhenAny(wake, delay);
        await timer.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The log's reader stopped: it failed with an error that waiting does not cure")]
    static partial void LogReaderFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Fold} fell behind the log's reader ({Queued} events waiting; {Why}): it catches up on its own and rejoins")]
    static partial void LogLeftBehind(ILogger logger, string fold, int queued, string why);
}
