using Microsoft.Extensions.Logging;
using Npgsql;

namespace Streaming.EventStore;

/// <summary>
/// Tails the log from a named checkpoint and hands each batch to a handler together with an open transaction; the
/// checkpoint moves in that same transaction, so a batch's effects and its checkpoint commit or roll back together.
/// Instances sharing a name take turns batch by batch (<see cref="Checkpoints.ClaimAsync"/>), so none handles an event
/// another has committed.
/// </summary>
public sealed partial class CatchUpSubscription(
    NpgsqlDataSource dataSource,
    string name,
    Func<IReadOnlyList<RecordedEvent>, NpgsqlTransaction, CancellationToken, Task> handler,
    SubscriptionOptions options,
    ILogger logger)
{
    static readonly Task Never = new TaskCompletionSource().Task;
    static readonly TimeSpan FirstHeldBackDelay = TimeSpan.FromMilliseconds(10);
    static readonly TimeSpan MaxHeldBackDelay = TimeSpan.FromMilliseconds(500);

    readonly Lock _positionLock = new();
    TailPosition? _position;
    long _handled;
    long _reads;

    public string Name => name;

    /// <summary>The checkpoint as this instance last read or moved it; null before the first batch of a new subscription.</summary>
    public TailPosition? Position
    {
        get
        {
            lock (_positionLock)
            {
                return _position;
            }
        }
        private set
        {
            lock (_positionLock)
            {
                _position = value;
            }
        }
    }

    /// <summary>Events handled and committed by this instance.</summary>
    public long Handled => Interlocked.Read(ref _handled);

    /// <summary>Tail reads completed, found events or not: a heartbeat that stops moving when the subscription is stuck.</summary>
    public long Reads => Interlocked.Read(ref _reads);

    /// <summary>
    /// Handles batches until cancelled, waking on notifications and polling. Transient database errors are retried
    /// with backoff; any other handler or store error ends the run (the batch stays unhandled).
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Validate();
        await using var wakeups = new AppendWakeups(dataSource, options.ReconnectDelay, logger);
        if (options.Listen)
        {
            wakeups.Start();
        }
        var failures = 0;
        var heldBackDelay = FirstHeldBackDelay;
        while (!cancellationToken.IsCancellationRequested)
        {
            var wake = options.Listen ? wakeups.Next : Never;
            (int Handled, bool HeldBack) step;
            try
            {
                step = await StepAsync(cancellationToken);
                failures = 0;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (CheckpointConflictException e)
            {
                // Someone moved the checkpoint without claiming it; our batch rolled back, so go on from where it is.
                LogCheckpointMoved(logger, e, name, e.Actual?.ToString() ?? "(none)");
                continue;
            }
            catch (Exception e) when (IsTransient(e))
            {
                failures++;
                var delay = Backoff(failures);
                LogRetrying(logger, e, name, failures, delay);
                if (!await DelayAsync(delay, cancellationToken))
                {
                    return;
                }
                continue;
            }
            catch (Exception e)
            {
                LogFailed(logger, e, name, Position?.ToString() ?? "(start)");
                throw;
            }
            if (step.Handled > 0)
            {
                heldBackDelay = FirstHeldBackDelay;
            }
            else if (step.HeldBack)
            {
                // Committed events wait behind an older open transaction; their notification has been spent already.
                await WaitAsync(wake, Min(heldBackDelay, options.PollInterval), cancellationToken);
                heldBackDelay = Min(heldBackDelay * 2, MaxHeldBackDelay);
            }
            else
            {
                heldBackDelay = FirstHeldBackDelay;
                await WaitAsync(wake, options.PollInterval, cancellationToken);
            }
        }
    }

    /// <summary>Handles everything committed so far, batch by batch, from the stored checkpoint; returns how many events.</summary>
    public async Task<int> CatchUpOnceAsync(CancellationToken cancellationToken)
    {
        Validate();
        var total = 0;
        (int Handled, bool HeldBack) step;
        while ((step = await StepAsync(cancellationToken)).Handled > 0)
        {
            total += step.Handled;
        }
        return total;
    }

    async Task<(int Handled, bool HeldBack)> StepAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var saved = await Checkpoints.ClaimAsync(transaction, name, cancellationToken);
        Position = saved;
        var events = await EventLog.ReadTailAsync(connection, transaction, saved ?? TailPosition.Start, options.BatchSize, cancellationToken);
        if (events.Count == 0)
        {
            var heldBack = await EventLog.IsHeldBackAsync(connection, transaction, saved ?? TailPosition.Start, cancellationToken);
            Interlocked.Increment(ref _reads);
            return (0, heldBack);
        }
        Interlocked.Increment(ref _reads);
        await handler(events, transaction, cancellationToken);
        var next = events[^1].Position;
        await Checkpoints.SaveAsync(transaction, name, saved, next, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Position = next;
        Interlocked.Add(ref _handled, events.Count);
        return (events.Count, false);
    }

    void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.PollInterval, TimeSpan.Zero);
    }

    static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    // Waits for the wake-up or the timeout, whichever comes first, and drops the timer either way.
    static async Task WaitAsync(Task wake, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(timeout, timer.Token);
        await Task.WhenAny(wake, delay);
        await timer.CancelAsync();
    }

    TimeSpan Backoff(int failures)
    {
        var capped = Math.Min(options.MaxRetryDelay.TotalMilliseconds, 100 * Math.Pow(2, Math.Min(failures, 16)));
        return TimeSpan.FromMilliseconds(capped * (0.5 + Random.Shared.NextDouble() / 2));
    }

    static async Task<bool> DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    static bool IsTransient(Exception e) => e is NpgsqlException { IsTransient: true } or TimeoutException;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscription {Subscription}: checkpoint was moved to {Position} without a claim; continuing from there")]
    static partial void LogCheckpointMoved(ILogger logger, Exception exception, string subscription, string position);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscription {Subscription}: batch failed (attempt {Attempt}); retrying in {Delay}")]
    static partial void LogRetrying(ILogger logger, Exception exception, string subscription, int attempt, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "Subscription {Subscription} stopped at {Position}: the batch failed")]
    static partial void LogFailed(ILogger logger, Exception exception, string subscription, string position);
}
