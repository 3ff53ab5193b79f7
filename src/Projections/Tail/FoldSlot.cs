using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;

namespace Streaming.Projections.Tail;

/// <summary>
/// One fold's place at the <see cref="LogTail"/>: the batches the reader queued for it, and its loop. While attached it
/// folds what the reader hands it; when it falls behind (or moves back to another checkpoint) it reads on its own, from
/// the history archive where it may and the log after that, until it has caught up and rejoins. Transient failures of
/// any step are waited out with backoff, as one outage of this fold.
/// </summary>
internal sealed partial class FoldSlot
{
    readonly ILogFold _fold;
    readonly NpgsqlDataSource _dataSource;
    readonly TailOptions _options;
    readonly ILogger _logger;
    readonly LoopHealth _health;
    readonly Outage _outage;
    readonly Lock _lock = new();
    readonly Queue<LogBatch> _queue = new();
    readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    TaskCompletionSource _changed = NewSignal();
    TaskCompletionSource _room = NewSignal();
    int _queuedEvents;
    volatile bool _inOutage;
    LogSource? _source;

    public FoldSlot(ILogFold fold, NpgsqlDataSource dataSource, TailOptions options, LoopHealth health, ILogger logger)
    {
        _fold = fold;
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

    // The reader's view, changed only under the tail's lock.
    public bool Attached { get; set; }

    /// <summary>The end of the last batch queued (or, just attached, the position the fold is at): what the reader has handed it.</summary>
    public TailPosition QueuedEnd { get; set; }

    public bool IdleSent { get; set; }

    public long Detachments { get; set; }

    public async Task RunAsync(LogTail tail, Task begun, CancellationToken cancellationToken)
    {
        try
        {
            await RetryingAsync(() => _fold.StartAsync(cancellationToken), cancellationToken);
            _started.TrySetResult();
            await begun.WaitAsync(cancellationToken);
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var changed = Changed;
                if (TryTake(out var item))
                {
                    await HandleAsync(tail, item, cancellationToken);
                }
                else if (Attached)
                {
                    await changed.WaitAsync(cancellationToken);
                }
                else
                {
                    await CatchUpAloneAsync(tail, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _started.TrySetCanceled(cancellationToken);
            await StopAsync();
        }
        catch (Exception e)
        {
            _started.TrySetException(e);
            _health.Failed(_fold.Name, $"{e.GetType().Name}: {e.Message}");
            LogFailed(_logger, e, _fold.Name, _fold.Position.ToString());
            throw;
        }
    }

    async Task HandleAsync(LogTail tail, LogBatch item, CancellationToken cancellationToken)
    {
        if (item.IsEmpty)
        {
            await RetryingAsync(() => _fold.IdleAsync(cancellationToken), cancellationToken);
            return;
        }
        if (item.End.CompareTo(_fold.Position) <= 0)
        {
            return;
        }
        if (_fold.Position.CompareTo(item.Follows) < 0)
        {
            // The fold moved back to an earlier checkpoint: what is queued does not follow it any more.
            tail.Detach(this, dropQueued: true);
            return;
        }
        await RetryingAsync(() => _fold.ApplyAsync(item, cancellationToken), cancellationToken);
        if (_fold.Position.CompareTo(item.End) < 0)
        {
            tail.Detach(this, dropQueued: true);
        }
    }

    // Reads on its own from where the fold is; rejoins the reader once caught up.
    async Task CatchUpAloneAsync(LogTail tail, CancellationToken cancellationToken)
    {
        var source = _source ??= new LogSource(_dataSource, _logger, _options.ReadBatchSize);
        var wake = tail.Wakeup;
        var batch = await RetryingAsync(() => source.ReadAsync(_fold.Position, _fold.ReadsArchive, cancellationToken), cancellationToken);
        if (!batch.IsEmpty)
        {
            await RetryingAsync(() => _fold.ApplyAsync(batch, cancellationToken), cancellationToken);
            if (batch.Count == source.BatchSize || batch.FromArchive)
            {
                return;
            }
        }
        if (tail.TryAttach(this))
        {
            _source = null;
            LogRejoined(_logger, _fold.Name, _fold.Position.ToString());
            return;
        }
        if (batch.IsEmpty)
        {
            await RetryingAsync(() => _fold.IdleAsync(cancellationToken), cancellationToken);
            await Task.WhenAny(wake, Task.Delay(_options.PollInterval, cancellationToken));
        }
    }

    async Task StopAsync()
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _fold.StopAsync(limit.Token);
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

    Task Changed
    {
        get
        {
            lock (_lock)
            {
                return _changed.Task;
            }
        }
    }

    /// <summary>Queues a batch unless that would go past the fold's share of queued events (an empty queue takes any batch).</summary>
    public bool TryEnqueue(LogBatch batch, bool force = false)
    {
        TaskCompletionSource fired;
        lock (_lock)
        {
            if (!force && _queuedEvents > 0 && _queuedEvents + batch.Count > _options.FoldQueueEvents)
            {
                return false;
            }
            _queue.Enqueue(batch);
            _queuedEvents += batch.Count;
            fired = _changed;
            _changed = NewSignal();
        }
        fired.TrySetResult();
        return true;
    }

    /// <summary>Wakes the loop to look at its state again (it was detached), optionally dropping what is queued.</summary>
    public void Wake(bool dropQueued)
    {
        TaskCompletionSource fired;
        lock (_lock)
        {
            if (dropQueued)
            {
                _queue.Clear();
                _queuedEvents = 0;
            }
            fired = _changed;
            _changed = NewSignal();
        }
        fired.TrySetResult();
    }

    /// <summary>Waits until the fold takes a batch, at most <paramref name="timeout"/>; true when there is room now.</summary>
    public async Task<bool> WaitForRoomAsync(int events, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            Task room;
            lock (_lock)
            {
                if (_queuedEvents == 0 || _queuedEvents + events <= _options.FoldQueueEvents)
                {
                    return true;
                }
                room = _room.Task;
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || _inOutage)
            {
                return false;
            }
            await Task.WhenAny(room, Task.Delay(left, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    public int QueuedEvents
    {
        get
        {
            lock (_lock)
            {
                return _queuedEvents;
            }
        }
    }

    bool TryTake(out LogBatch item)
    {
        TaskCompletionSource fired;
        lock (_lock)
        {
            if (!_queue.TryDequeue(out item!))
            {
                return false;
            }
            _queuedEvents -= item.Count;
            fired = _room;
            _room = NewSignal();
        }
        fired.TrySetResult();
        return true;
    }

    static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Fold} caught up on its own and rejoined the log's reader at {Position}")]
    static partial void LogRejoined(ILogger logger, string fold, string position);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Fold} stopped at {Position}: it failed with an error that waiting does not cure")]
    static partial void LogFailed(ILogger logger, Exception exception, string fold, string position);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Fold} could not write what it held while stopping; it folds it again from its checkpoint at the next start")]
    static partial void LogStopFailed(ILogger logger, Exception exception, string fold);
}
