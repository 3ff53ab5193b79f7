using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;

namespace Streaming.Projections.Tail;

/// <summary>
/// One fold's place at the <see cref="LogTail"/>: its queue (a bounded channel the reader writes and the fold's loop
/// alone reads) and that loop. While it has a queue it folds what the reader hands it, and asks the fold to write what
/// its timers say is due when nothing arrives for a while; when the reader closes its queue (it fell behind) or it
/// leaves (it moved back to another checkpoint) it reads on its own, from the history archive where it may and the log
/// after that, until it has caught up and asks to rejoin. Transient failures of any step are waited out with backoff, as
/// one outage of this fold.
/// </summary>
internal sealed partial class FoldSlot
{
    readonly ILogFold _fold;
    readonly NpgsqlDataSource _dataSource;
    readonly TailOptions _options;
    readonly ILogger _logger;
    readonly LoopHealth _health;
    readonly Outage _outage;
    readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly TaskCompletionSource<ChannelReader<LogBatch>> _begun = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // The fold's loop says it took a batch: the reader, waiting for room, looks again. Latest only.
    readonly Channel<bool> _taken = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.DropWrite,
    });
    IFedLogFold? _fed;
    Task<bool>? _handed;
    volatile bool _inOutage;
    volatile bool _attached;
    int _queuedEvents;
    long _detachments;
    LogSource? _source;

    // The reader's side, touched by the reading loop only.
    Channel<LogBatch>? _queue;

    public FoldSlot(ILogFold fold, NpgsqlDataSource dataSource, TailOptions options, LoopHealth health, ILogger logger)
    {
        _fold = fold;
        _fed = fold as IFedLogFold;
        _dataSource = dataSource;
        _options = options;
        _logger = logger;
        _health = health;
        _outage = new Outage(fold.Name, health, logger);
        health.Running(fold.Name);
    }

    public ILogFold Fold => _fold;

    /// <summary>Completes once the fold has loaded its checkpoint and state.</summary>
    public Task Started => _started.Task;

    public bool InOutage => _inOutage;

    /// <summary>Whether the reader hands the fold the log.</summary>
    public bool Attached => _attached;

    /// <summary>The reader's: the end of the last batch queued (or, just attached, the position the fold was at).</summary>
    public LogPositions QueuedEnd { get; private set; } = LogPositions.Start(0);

    public int QueuedEvents => Volatile.Read(ref _queuedEvents);

    public TailFoldState State() => new(_fold.Name, _fold.Position, _attached, QueuedEvents, Interlocked.Read(ref _detachments));

    /// <summary>The reader's: hands the fold a new queue, the log from <paramref name="queuedEnd"/> on.</summary>
    public ChannelReader<LogBatch> Connect(Channel<LogBatch> queue, LogPositions queuedEnd)
    {
        _queue = queue;
        QueuedEnd = queuedEnd;
        _attached = true;
        return queue.Reader;
    }

    /// <summary>The reader's: whether <paramref name="queue"/> is the fold's current queue.</summary>
    public bool IsFedBy(ChannelReader<LogBatch> queue) => _queue?.Reader == queue;

    /// <summary>The reader's: closes the fold's queue; the fold folds what is in it, then reads on its own.</summary>
    public void Disconnect(bool leftBehind = false)
    {
        _queue?.Writer.TryComplete();
        _queue = null;
        _attached = false;
        if (leftBehind)
        {
            Interlocked.Increment(ref _detachments);
        }
    }

    /// <summary>The reader's: the fold's first queue, once every fold has started.</summary>
    public void Begin(ChannelReader<LogBatch> queue) => _begun.TrySetResult(queue);

    /// <summary>
    /// The reader's: queues a batch unless that would go past the fold's share of queued events (an empty queue takes any
    /// batch; <paramref name="force"/> takes it anyway).
    /// </summary>
    public bool Enqueue(LogBatch batch, bool force = false)
    {
        var queued = QueuedEvents;
        if (_queue is null || !force && queued > 0 && queued + batch.Count > _options.FoldQueueEvents)
        {
            return false;
        }
        Interlocked.Add(ref _queuedEvents, batch.Count);
        if (!_queue.Writer.TryWrite(batch))
        {
            Interlocked.Add(ref _queuedEvents, -batch.Count);
            return false;
        }
        QueuedEnd = batch.End;
        return true;
    }

    /// <summary>The reader's: waits until the fold takes batches enough for <paramref name="events"/> more, at most until <paramref name="deadline"/>.</summary>
    public async Task<bool> WaitForRoomAsync(int events, DateTime deadline, CancellationToken cancellationToken)
    {
        while (true)
        {
            _taken.Reader.TryRead(out _);
            var queued = QueuedEvents;
            if (queued == 0 || queued + events <= _options.FoldQueueEvents)
            {
                return true;
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || _inOutage)
            {
                return false;
            }
            await LogTail.WaitAsync(_taken.Reader.WaitToReadAsync(cancellationToken).AsTask(), left, cancellationToken);
        }
    }

    public async Task RunAsync(LogTail tail, CancellationToken cancellationToken)
    {
        try
        {
            await RetryingAsync(() => _fold.StartAsync(cancellationToken), cancellationToken);
            _started.TrySetResult();
            var queue = await _begun.Task.WaitAsync(cancellationToken);
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (queue is not null)
                {
                    await FollowAsync(tail, queue, cancellationToken);
                }
                queue = await CatchUpAloneAsync(tail, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Only a fold that started this run writes what it holds: one stopped while starting (its checkpoint not loaded
            // yet, e.g. PostgreSQL away) still holds what its last run did not write, for that run's partitions, some of
            // which another instance may own by now and have loaded its checkpoints of.
            if (!_started.TrySetCanceled(cancellationToken))
            {
                await FlushAsync();
            }
        }
        catch (Exception e)
        {
            _started.TrySetException(e);
            _health.Failed(_fold.Name, $"{e.GetType().Name}: {e.Message}");
            LogFailed(_logger, e, _fold.Name, _fold.Position.ToString());
            throw;
        }
    }

    // Folds what the reader queues until the queue is closed or the fold leaves it, takes what the process hands a fed
    // fold meanwhile, and ticks while nothing arrives.
    async Task FollowAsync(LogTail tail, ChannelReader<LogBatch> queue, CancellationToken cancellationToken)
    {
        Task<bool>? waiting = null;
        while (true)
        {
            if (_fed is not null)
            {
                _handed ??= _fed.WaitToTakeAsync(cancellationToken).AsTask();
                if (_handed.IsCompleted)
                {
                    var handed = await _handed;
                    _handed = null;
                    if (!handed)
                    {
                        _fed = null;
                        continue;
                    }
                    await RetryingAsync(() => _fed.TakeAsync(cancellationToken), cancellationToken);
                    continue;
                }
            }
            if (TryTake(queue, out var batch))
            {
                if (!await HandleAsync(batch, cancellationToken))
                {
                    await LeaveAsync(tail, queue, cancellationToken);
                    return;
                }
                continue;
            }
            waiting ??= queue.WaitToReadAsync(cancellationToken).AsTask();
            if (!waiting.IsCompleted)
            {
                await LogTail.WaitAsync(_handed is null ? waiting : Task.WhenAny(waiting, _handed), _options.TickInterval, cancellationToken);
                if (_handed is { IsCompleted: true })
                {
                    continue;
                }
                if (!waiting.IsCompleted)
                {
                    var before = _fold.Position;
                    await RetryingAsync(() => _fold.TickAsync(cancellationToken), cancellationToken);
                    if (!_fold.Position.Covers(before))
                    {
                        // The fold moved back to an earlier checkpoint while idle (a job-state fold following another
                        // generation): what the reader queues from here on does not follow it, and what it already
                        // handed the fold must be read again; nothing else would tell the fold, as no batch may come.
                        await LeaveAsync(tail, queue, cancellationToken);
                        return;
                    }
                    continue;
                }
            }
            var more = await waiting;
            waiting = null;
            if (!more)
            {
                return;
            }
        }
    }

    // The fold stops following the queue (it moved back): the reader closes it, and what is queued meanwhile is dropped.
    async Task LeaveAsync(LogTail tail, ChannelReader<LogBatch> queue, CancellationToken cancellationToken)
    {
        tail.Leave(this, queue);
        while (await queue.WaitToReadAsync(cancellationToken))
        {
            while (TryTake(queue, out _))
            {
            }
        }
    }

    // False when the fold moved back to an earlier checkpoint: the queue does not follow it any more.
    async Task<bool> HandleAsync(LogBatch batch, CancellationToken cancellationToken)
    {
        if (_fold.Position.Covers(batch.End))
        {
            return true;
        }
        if (!_fold.Position.Covers(batch.Follows))
        {
            return false;
        }
        await RetryingAsync(() => _fold.ApplyAsync(batch, cancellationToken), cancellationToken);
        return _fold.Position.Covers(batch.End);
    }

    // Reads on its own from where the fold is; asks to rejoin the reader once caught up, and returns the queue it got.
    async Task<ChannelReader<LogBatch>?> CatchUpAloneAsync(LogTail tail, CancellationToken cancellationToken)
    {
        var source = _source ??= new LogSource(_dataSource, _logger, _options.ReadBatchSize, tail.Followed);
        var wake = tail.Wakeup;
        var batch = await RetryingAsync(() => source.ReadAsync(_fold.Position, _fold.ReadsArchive, cancellationToken), cancellationToken);
        if (!batch.IsEmpty)
        {
            await RetryingAsync(() => _fold.ApplyAsync(batch, cancellationToken), cancellationToken);
            if (batch.Truncated || batch.FromArchive)
            {
                return null;
            }
        }
        if (await tail.JoinAsync(this, _fold.Position, cancellationToken) is { } queue)
        {
            _source = null;
            LogRejoined(_logger, _fold.Name, _fold.Position.ToString());
            return queue;
        }
        if (batch.IsEmpty)
        {
            await RetryingAsync(() => _fold.TickAsync(cancellationToken), cancellationToken);
            await LogTail.WaitAsync(wake, _options.PollInterval, cancellationToken);
        }
        return null;
    }

    bool TryTake(ChannelReader<LogBatch> queue, out LogBatch batch)
    {
        if (!queue.TryRead(out batch!))
        {
            return false;
        }
        Interlocked.Add(ref _queuedEvents, -batch.Count);
        _taken.Writer.TryWrite(true);
        return true;
    }

    async Task FlushAsync()
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _fold.FlushAsync(limit.Token);
        }
        catch (Exception e)
        {
            // What was not written is folded again from the checkpoint at the next start.
            LogStopFailed(_logger, e, _fold.Name);
        }
    }

    async Task RetryingAsync(Func<Task> step, CancellationToken cancellationToken) =>
        await RetryingAsync(async () =>
        {
            await step();
            return true;
        }, cancellationToken);

    async Task<T> RetryingAsync<T>(Func<Task<T>> step, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                var result = await step();
                if (_inOutage)
                {
                    _outage.Succeeded();
                    _inOutage = false;
                }
                return result;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && TransientFaults.IsTransient(e))
            {
                _inOutage = true;
                var delay = _outage.Failed(e, _options.MaxRetryDelay);
                if (!await Outage.WaitAsync(delay, cancellationToken))
                {
                    throw new OperationCanceledException(cancellationToken);
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Fold} caught up on its own and rejoined the log's reader at {Position}")]
    static partial void LogRejoined(ILogger logger, string fold, string position);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Fold} stopped at {Position}: it failed with an error that waiting does not cure")]
    static partial void LogFailed(ILogger logger, Exception exception, string fold, string position);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Fold} could not write what it held while stopping; it folds it again from its checkpoint at the next start")]
    static partial void LogStopFailed(ILogger logger, Exception exception, string fold);
}
