using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Api.Fleet;
using Streaming.EventStore;

namespace Streaming.Api.Live;

/// <summary>
/// Tells open pages that the fleet changed: LISTENs on the fleet history's channel (any process's fold notifies it) and
/// on the log's, and wakes every waiting page; the log's are passed on at most once a second. One listener per shard:
/// each shard's folds and appends notify on their own server.
/// </summary>
public sealed partial class LiveUpdates(StoreShards shards, ILogger<LiveUpdates> logger) : BackgroundService
{
    readonly Lock _lock = new();
    TaskCompletionSource<string> _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    DateTimeOffset _lastLogPulse;

    /// <summary>Completes with the kind of the next change (<c>decisions</c>, <c>fleet</c>, <c>log</c>).</summary>
    public Task<string> NextAsync()
    {
        lock (_lock)
        {
            return _next.Task;
        }
    }

    void Pulse(string kind)
    {
        TaskCompletionSource<string> fired;
        lock (_lock)
        {
            if (kind == "log")
            {
                var now = DateTimeOffset.UtcNow;
                if (now - _lastLogPulse < TimeSpan.FromSeconds(1))
                {
                    return;
                }
                _lastLogPulse = now;
            }
            fired = _next;
            _next = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        fired.TrySetResult(kind);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(shards.All.Select(dataSource => ListenAsync(dataSource, stoppingToken)));

    async Task ListenAsync(NpgsqlDataSource dataSource, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) =>
                    Pulse(e.Channel == FleetHistoryFold.Channel ? (e.Payload is "0" ? "fleet" : "decisions") : "log");
                await using (var listen = new NpgsqlCommand($"LISTEN {FleetHistoryFold.Channel}; LISTEN es_events", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                LogListenFailed(e);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listening for fleet changes failed; open pages fall back to polling until it is back")]
    partial void LogListenFailed(Exception exception);
}
