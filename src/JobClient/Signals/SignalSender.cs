using System.Threading.Channels;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Streaming.JobClient.Signals;

/// <summary>
/// Sends the job's signals in the background so reporting never waits on the broker: signals queue in memory (the
/// oldest is dropped, and counted, when the queue is full), are handed to the producer in batches, and a batch that
/// fails is sent again, in order, after a backoff with jitter, until it is delivered. The next batch waits for it, so
/// a job's <c>seq</c> reaches Kafka in increasing order.
/// </summary>
sealed partial class SignalSender : IAsyncDisposable
{
    static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    readonly JobClientOptions _options;
    readonly ILogger _logger;
    readonly Channel<Message<string, byte[]>> _pending;
    readonly IProducer<string, byte[]> _producer;
    readonly CancellationTokenSource _stopping = new();
    readonly Task _sending;
    long _sent;
    long _dropped;
    long _retried;

    public SignalSender(JobClientOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        _pending = Channel.CreateBounded<Message<string, byte[]>>(
            new BoundedChannelOptions(options.MaxPendingSignals) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref _dropped));
        var config = new ProducerConfig
        {
            BootstrapServers = options.KafkaBootstrapServers,
            ClientId = "streaming-job-" + options.JobId,
            // Java's default for keyed records: murmur2 of the key (the random part only applies to records without a key).
            Partitioner = Partitioner.Murmur2Random,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = options.Linger.TotalMilliseconds,
            MessageTimeoutMs = 30_000,
            RetryBackoffMs = 100,
            RetryBackoffMaxMs = 2_000,
        };
        foreach (var (key, value) in options.KafkaClient)
        {
            config.Set(key, value);
        }
        _producer = new ProducerBuilder<string, byte[]>(config).Build();
        _sending = Task.Run(SendAsync);
    }

    public long Sent => Interlocked.Read(ref _sent);

    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Signals that were not delivered at an attempt and were sent again.</summary>
    public long Retried => Interlocked.Read(ref _retried);

    /// <summary>Queues a signal; never waits.</summary>
    public void Enqueue(Message<string, byte[]> message) => _pending.Writer.TryWrite(message);

    async Task SendAsync()
    {
        var batch = new List<Message<string, byte[]>>(_options.MaxBatchSize);
        var reader = _pending.Reader;
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            while (batch.Count < _options.MaxBatchSize && reader.TryRead(out var message))
            {
                batch.Add(message);
            }
            for (var attempt = 1; batch.Count > 0; attempt++)
            {
                var failed = await DeliverAsync(batch);
                Interlocked.Add(ref _sent, batch.Count - failed.Count);
                batch = failed;
                if (batch.Count == 0)
                {
                    break;
                }
                Interlocked.Add(ref _retried, batch.Count);
                var delay = Backoff(attempt);
                LogRetrying(_logger, _options.JobId, batch.Count, attempt, delay);
                try
                {
                    await Task.Delay(delay, _stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    LogGivenUp(_logger, _options.JobId, batch.Count);
                    Interlocked.Add(ref _dropped, batch.Count);
                    batch.Clear();
                }
            }
            batch = new List<Message<string, byte[]>>(_options.MaxBatchSize);
        }
    }

    // The messages that were not delivered and can be tried again, in their order.
    async Task<List<Message<string, byte[]>>> DeliverAsync(List<Message<string, byte[]>> batch)
    {
        var deliveries = new Task<DeliveryReport<string, byte[]>>[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var delivered = new TaskCompletionSource<DeliveryReport<string, byte[]>>(TaskCreationOptions.RunContinuationsAsynchronously);
            deliveries[i] = delivered.Task;
            try
            {
                _producer.Produce(_options.SignalsTopic, batch[i], delivered.SetResult);
            }
            catch (ProduceException<string, byte[]> e)
            {
                delivered.SetResult(new DeliveryReport<string, byte[]> { Error = e.Error, Message = batch[i] });
            }
        }
        await Task.WhenAll(deliveries);
        var failed = new List<Message<string, byte[]>>();
        for (var i = 0; i < batch.Count; i++)
        {
            var error = deliveries[i].Result.Error;
            if (error.Code == ErrorCode.NoError)
            {
                continue;
            }
            if (error.IsFatal || error.Code is ErrorCode.MsgSizeTooLarge or ErrorCode.InvalidMsg or ErrorCode.TopicAuthorizationFailed)
            {
                LogRefused(_logger, _options.JobId, error.Reason);
                Interlocked.Increment(ref _dropped);
                continue;
            }
            failed.Add(batch[i]);
        }
        return failed;
    }

    static TimeSpan Backoff(int attempt)
    {
        var capped = Math.Min(MaxBackoff.TotalMilliseconds, 100 * Math.Pow(2, Math.Min(attempt - 1, 16)));
        return TimeSpan.FromMilliseconds(capped * (0.5 + Random.Shared.NextDouble() / 2));
    }

    /// <summary>Sends what is queued, waiting at most the flush timeout, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        _stopping.CancelAfter(_options.FlushTimeout);
        try
        {
            await _sending.WaitAsync(_options.FlushTimeout + TimeSpan.FromSeconds(1));
        }
        catch (TimeoutException)
        {
            LogGivenUp(_logger, _options.JobId, _pending.Reader.Count);
        }
        _producer.Flush(TimeSpan.FromSeconds(1));
        _producer.Dispose();
        if (_sending.IsCompleted)
        {
            _stopping.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: {Count} signals not delivered (attempt {Attempt}); sending them again in {Delay}")]
    static partial void LogRetrying(ILogger logger, string jobId, int count, int attempt, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId}: the broker refused a signal for good: {Reason}")]
    static partial void LogRefused(ILogger logger, string jobId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: stopped with {Count} signals not delivered")]
    static partial void LogGivenUp(ILogger logger, string jobId, int count);
}
