using Microsoft.Extensions.Logging;

namespace Streaming.Hosting.Resilience;

/// <summary>
/// One loop's view of a transient outage: the first failure logs one warning and marks the loop not ready, each
/// further one only counts and grows the backoff, and the first success after them logs one line saying how long it
/// lasted. Not thread-safe: one per loop.
/// </summary>
public sealed partial class Outage(string loop, LoopHealth health, ILogger logger, TimeProvider? clock = null)
{
    readonly TimeProvider _clock = clock ?? TimeProvider.System;
    DateTimeOffset? _since;
    int _attempts;

    public bool InProgress => _since is not null;

    /// <summary>Records a transient failure and returns how long to wait before the next attempt.</summary>
    public TimeSpan Failed(Exception exception, TimeSpan? maxDelay = null)
    {
        _attempts++;
        if (_since is null)
        {
            _since = _clock.GetUtcNow();
            LogBegan(logger, exception, loop, Describe(exception));
            health.Waiting(loop, _since.Value, Describe(exception));
        }
        return Backoff.Delay(_attempts, maxDelay);
    }

    /// <summary>Records a success: ends the outage, if one was in progress.</summary>
    public void Succeeded()
    {
        if (_since is { } since)
        {
            LogEnded(logger, loop, _clock.GetUtcNow() - since, _attempts);
            _since = null;
            _attempts = 0;
        }
        health.Running(loop);
    }

    /// <summary>
    /// Runs <paramref name="step"/> until it succeeds, waiting out its transient failures (<see cref="TransientFaults"/>)
    /// with backoff as this outage; anything else, and a cancellation, ends it.
    /// </summary>
    public async Task<T> WaitOutAsync<T>(Func<CancellationToken, Task<T>> step, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                var result = await step(cancellationToken);
                Succeeded();
                return result;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && TransientFaults.IsTransient(e))
            {
                if (!await WaitAsync(Failed(e), cancellationToken))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }
        }
    }

    /// <summary>Waits out the delay <see cref="Failed"/> returned; false when cancelled meanwhile.</summary>
    public static async Task<bool> WaitAsync(TimeSpan delay, CancellationToken cancellationToken)
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

    static string Describe(Exception exception) => exception switch
    {
        Npgsql.PostgresException postgres => $"PostgreSQL {postgres.SqlState}: {postgres.MessageText}",
        _ => $"{exception.GetType().Name}: {exception.Message}",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Loop}: outage began ({Error}); retrying with backoff until it ends")]
    static partial void LogBegan(ILogger logger, Exception exception, string loop, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Loop}: outage ended after {Duration} ({Attempts} failed attempts); resuming")]
    static partial void LogEnded(ILogger logger, string loop, TimeSpan duration, int attempts);
}
