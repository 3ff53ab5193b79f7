using System.Text.Json;
using Confluent.Kafka;
using Streaming.Contracts;

namespace Streaming.Chaos.Verification;

/// <summary>
/// Follows <c>job-phase-changes</c> in a consumer group that commits its offsets every 200 ms, as a job acting on its
/// decisions would, for the whole run: every decision must reach it, offset-commit faults or not.
/// </summary>
public sealed class PhaseChangeFollower : IAsyncDisposable
{
    readonly CancellationTokenSource _stop = new();
    readonly HashSet<Guid> _seen = [];
    readonly Task _running;

    public PhaseChangeFollower(string bootstrapServers) =>
        _running = Task.Run(() => Follow(bootstrapServers), CancellationToken.None);

    public int Seen
    {
        get
        {
            lock (_seen)
            {
                return _seen.Count;
            }
        }
    }

    public bool HasSeen(Guid eventId)
    {
        lock (_seen)
        {
            return _seen.Contains(eventId);
        }
    }

    void Follow(string bootstrapServers)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "chaos-jobs",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = true,
            AutoCommitIntervalMs = 200,
            SessionTimeoutMs = 6_000,
        }).SetLogHandler((_, _) => { }).Build();
        consumer.Subscribe(Topics.PhaseChanges);
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                ConsumeResult<byte[]?, byte[]?> result;
                try
                {
                    result = consumer.Consume(_stop.Token);
                }
                catch (ConsumeException e) when (!e.Error.IsFatal)
                {
                    // A job rides out broker errors the way librdkafka reports them: as errors it can consume past.
                    continue;
                }
                using var json = JsonDocument.Parse(result.Message.Value);
                lock (_seen)
                {
                    _seen.Add(json.RootElement.GetProperty("eventId").GetGuid());
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            consumer.Close();
        }
    }

    /// <summary>Waits until it has seen every one of <paramref name="expected"/>, or <paramref name="timeout"/> passes.</summary>
    public async Task<long> MissingAfterAsync(IReadOnlyCollection<Guid> expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        long missing;
        while ((missing = expected.LongCount(id => !HasSeen(id))) > 0 && DateTime.UtcNow < deadline && !_running.IsCompleted)
        {
            await Task.Delay(50);
        }
        return missing;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _running;
        _stop.Dispose();
    }
}
