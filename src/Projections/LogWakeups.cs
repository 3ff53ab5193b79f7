using Microsoft.Extensions.Logging;
using Npgsql;

namespace Streaming.Projections;

/// <summary>
/// Wakes the log's readers when an append commits (LISTEN on the store's notification channel). A notification is
/// only a hint: readers also wake on their poll interval, so a lost connection delays them but never stalls them.
/// </summary>
public sealed class LogWakeups(NpgsqlDataSource dataSource, string channel, ILogger<LogWakeups> logger) : IAsyncDisposable
{
    // The channel is an identifier, spliced into LISTEN, so only a plain name is accepted.
    readonly string _channel = System.Text.RegularExpressions.Regex.IsMatch(channel, "^[a-z_][a-z0-9_]*$")
        ? channel
        : throw new ArgumentException($"'{channel}' is not a plain channel name", nameof(channel));
    readonly CancellationTokenSource _stopping = new();
    readonly Lock _lock = new();
    TaskCompletionSource _next = NewSignal();
    Task? _listening;

    public async Task WaitAsync(TimeSpan poll, CancellationToken cancellationToken)
    {
        Task next;
        lock (_lock)
        {
            _listening ??= Task.Run(ListenAsync, CancellationToken.None);
            next = _next.Task;
        }
        await Task.WhenAny(next, Task.Delay(poll, cancellationToken));
        cancellationToken.ThrowIfCancellationRequested();
    }

    async Task ListenAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(_stopping.Token);
                connection.Notification += (_, _) => Pulse();
                var listenSql = "LISTEN " + _channel;
                await using (var listen = new NpgsqlCommand(listenSql, connection))
                {
                    await listen.ExecuteNonQueryAsync(_stopping.Token);
                }
                // Anything appended while we were not listening must not wait for the poll.
                Pulse();
                while (!_stopping.IsCancellationRequested)
                {
                    await connection.WaitAsync(_stopping.Token);
                }
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                logger.LogWarning(e, "Listening for appends failed; readers poll until it is back");
                await Task.Delay(TimeSpan.FromSeconds(1), _stopping.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
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
}
