using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;

namespace Streaming.Projections.Tail;

/// <summary>
/// Listens for the store's append notifications (LISTEN on <see cref="EventStoreSchema.NotificationChannel"/>) and
/// completes <see cref="Next"/> on each. Only a hint: readers poll too, and every (re)connect fires once so that appends
/// made while not listening are not left waiting for the poll.
/// </summary>
internal sealed partial class LogWakeups(NpgsqlDataSource dataSource, TimeSpan reconnectDelay, ILogger logger) : IAsyncDisposable
{
    static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(30);

    readonly CancellationTokenSource _stopping = new();
    readonly Lock _lock = new();
    TaskCompletionSource _next = NewSignal();
    Task? _listening;

    /// <summary>Completes at the next notification (or reconnect) after it was read.</summary>
    public Task Next
    {
        get
        {
            lock (_lock)
            {
                return _next.Task;
            }
        }
    }

    public void Start() => _listening ??= Task.Run(ListenAsync);

    async Task ListenAsync()
    {
        var failed = false;
        while (!_stopping.IsCancellationRequested)
        {
            NpgsqlConnection? connection = null;
            try
            {
                connection = await dataSource.OpenConnectionAsync(_stopping.Token);
                connection.Notification += (_, _) => Pulse();
                await using (var listen = new NpgsqlCommand("listen " + EventStoreSchema.NotificationChannel, connection))
                {
                    await listen.ExecuteNonQueryAsync(_stopping.Token);
                }
                if (failed)
                {
                    LogListening(logger);
                    failed = false;
                }
                Pulse();
                while (true)
                {
                    if (!await connection.WaitAsync(KeepAlive, _stopping.Token))
                    {
                        // A silently dropped connection never reports a notification; asking something finds out.
                        await using var ping = new NpgsqlCommand("select 1", connection);
                        await ping.ExecuteScalarAsync(_stopping.Token);
                    }
                }
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Whatever broke listening, readers still poll; say so once, and listen again.
                if (!failed)
                {
                    LogListenFailed(logger, e, reconnectDelay);
                    failed = true;
                }
                Pulse();
                try
                {
                    await Task.Delay(reconnectDelay, _stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            finally
            {
                if (connection is not null)
                {
                    await ReleaseAsync(connection);
                }
            }
        }
    }

    // A pooled connection that still listens but is never read would hold back the server's notification queue.
    static async Task ReleaseAsync(NpgsqlConnection connection)
    {
        try
        {
            if (connection.State == System.Data.ConnectionState.Open)
            {
                await using var unlisten = new NpgsqlCommand("unlisten *", connection);
                await unlisten.ExecuteNonQueryAsync();
            }
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException or InvalidOperationException)
        {
            // Broken: Npgsql does not return it to the pool, so there is nothing left to clean up.
        }
        await connection.DisposeAsync();
    }

    void Pulse()
    {
        TaskCompletionSource fired;
        lock (_lock)
        {
            fired = _next;
            _next = NewSignal();
        }
        fired.TrySetResult();
    }

    static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_listening is not null)
        {
            await _listening;
        }
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listening for appends failed; the log's readers poll until it is back, retrying every {Delay}")]
    static partial void LogListenFailed(ILogger logger, Exception exception, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening for appends again")]
    static partial void LogListening(ILogger logger);
}
