using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streaming.Contracts.Json;
using Streaming.Contracts.PhaseChanges;
using Streaming.Contracts.Signals;
using Streaming.JobClient.Signals;

namespace Streaming.JobClient.Phases;

/// <summary>
/// The job's records on <c>job-phase-changes</c>: the topic is keyed by job id and log-compacted, so the one partition
/// the key hashes to holds the job's last change (its current assignment). The feed reads that partition from the
/// start to its end at start-up, and, when following, goes on reading it and keeps only the job's key.
/// </summary>
sealed partial class KafkaPhaseFeed(JobClientOptions options, PhaseTracker tracker, ILogger logger) : IDisposable
{
    static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(10);

    readonly CancellationTokenSource _stopping = new();
    IConsumer<string, byte[]>? _consumer;
    Task? _following;

    /// <summary>Reads the partition to its current end and applies the job's last change; true when the topic exists.</summary>
    public async Task<bool> ReadCurrentAsync(CancellationToken cancellationToken)
    {
        var partition = await FindPartitionAsync(cancellationToken);
        if (partition is null)
        {
            LogNoTopic(logger, options.JobId, options.PhaseChangesTopic);
            return false;
        }
        var consumer = new ConsumerBuilder<string, byte[]>(ConsumerConfig()).Build();
        _consumer = consumer;
        var (begin, end) = await Task.Run(() => consumer.QueryWatermarkOffsets(partition, MetadataTimeout) is var w ? (w.Low.Value, w.High.Value) : default, cancellationToken);
        consumer.Assign(new TopicPartitionOffset(partition, Offset.Beginning));
        PhaseChangedMessage? latest = null;
        await Task.Run(() =>
        {
            while (end > begin)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var record = consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (record?.Message is null)
                {
                    // Nothing more to read although the end was not reached: what is left are transaction markers.
                    if (consumer.Position(partition).Value >= end)
                    {
                        break;
                    }
                    continue;
                }
                if (Read(record) is { } change && (latest is null || change.Version > latest.Version))
                {
                    latest = change;
                }
                if (record.Offset.Value + 1 >= end)
                {
                    break;
                }
            }
        }, cancellationToken);
        if (latest is null)
        {
            LogNeverMoved(logger, options.JobId, partition.Partition.Value, end);
            return true;
        }
        LogRead(logger, options.JobId, partition.Partition.Value, end, latest.To, latest.Version);
        await tracker.ApplyAsync(latest, atStartup: true, cancellationToken);
        return true;
    }

    /// <summary>Goes on reading the partition after <see cref="ReadCurrentAsync"/>, applying every change of the job in order.</summary>
    public void StartFollowing()
    {
        var consumer = _consumer ?? throw new InvalidOperationException("The current phase has not been read");
        _following = Task.Factory.StartNew(() =>
        {
            while (!_stopping.IsCancellationRequested)
            {
                try
                {
                    if (consumer.Consume(_stopping.Token) is { Message: not null } record && Read(record) is { } change)
                    {
                        tracker.ApplyAsync(change, atStartup: false, _stopping.Token).GetAwaiter().GetResult();
                    }
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                {
                }
                catch (ConsumeException e) when (!e.Error.IsFatal)
                {
                    LogConsumeFailed(logger, e, options.JobId);
                }
                catch (ConsumeException e)
                {
                    LogFollowingStopped(logger, e, options.JobId);
                    return;
                }
            }
        }, TaskCreationOptions.LongRunning);
    }

    async Task<TopicPartition?> FindPartitionAsync(CancellationToken cancellationToken)
    {
        using var admin = new AdminClientBuilder(Config(new AdminClientConfig { BootstrapServers = options.KafkaBootstrapServers })).Build();
        var metadata = await Task.Run(() => admin.GetMetadata(options.PhaseChangesTopic, MetadataTimeout), cancellationToken);
        var topic = metadata.Topics.FirstOrDefault(t => t.Topic == options.PhaseChangesTopic);
        if (topic is null || topic.Error.Code != ErrorCode.NoError || topic.Partitions.Count == 0)
        {
            return null;
        }
        return new TopicPartition(options.PhaseChangesTopic, Murmur2Partitioner.Partition(options.JobId, topic.Partitions.Count));
    }

    PhaseChangedMessage? Read(ConsumeResult<string, byte[]> record)
    {
        if (record.Message.Key != options.JobId || record.Message.Value is not { Length: > 0 } value)
        {
            return null;
        }
        try
        {
            var change = ContractsJson.Deserialize<PhaseChangedMessage>(Encoding.UTF8.GetString(value));
            return change.Schema == PhaseChangedMessage.SchemaV1 ? change : null;
        }
        catch (System.Text.Json.JsonException e)
        {
            LogMalformed(logger, e, options.JobId, record.Partition.Value, record.Offset.Value);
            return null;
        }
    }

    ConsumerConfig ConsumerConfig() => Config(new ConsumerConfig
    {
        BootstrapServers = options.KafkaBootstrapServers,
        // Assigned, never subscribed: the id only satisfies the client; no offsets are committed.
        GroupId = "streaming-job-client",
        EnableAutoCommit = false,
        EnableAutoOffsetStore = false,
        EnablePartitionEof = false,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        IsolationLevel = IsolationLevel.ReadCommitted,
    });

    T Config<T>(T config) where T : ClientConfig
    {
        foreach (var (key, value) in options.KafkaClient)
        {
            config.Set(key, value);
        }
        return config;
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _following?.Wait(TimeSpan.FromSeconds(5));
        _consumer?.Close();
        _consumer?.Dispose();
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: topic {Topic} does not exist (yet); the job keeps its initial phase")]
    static partial void LogNoTopic(ILogger logger, string jobId, string topic);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: read partition {Partition} of the phase changes up to offset {End}: assigned {Phase} (version {Version})")]
    static partial void LogRead(ILogger logger, string jobId, int partition, long end, string phase, long version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: read partition {Partition} of the phase changes up to offset {End}: never moved, it keeps its initial phase")]
    static partial void LogNeverMoved(ILogger logger, string jobId, int partition, long end);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: reading phase changes failed; retrying")]
    static partial void LogConsumeFailed(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Job {JobId}: following its phase on Kafka stopped on a fatal error; it learns its phase again when it restarts")]
    static partial void LogFollowingStopped(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: skipped a malformed phase change at partition {Partition}, offset {Offset}")]
    static partial void LogMalformed(ILogger logger, Exception exception, string jobId, int partition, long offset);
}
