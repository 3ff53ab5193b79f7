using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streaming.EventStore;
using Streaming.Ingest.Appending;
using Streaming.Hosting;
using Streaming.Hosting.Kafka;
using Streaming.Hosting.Resilience;

namespace Streaming.Ingest.Consuming;

/// <summary>
/// Runs <see cref="IngestOptions.Consumers"/> signal consumers side by side. A job's signals share a partition, so the
/// consumers append to disjoint streams and their transactions run in parallel in PostgreSQL. With several shards
/// Kafka partition k is log partition k, so <c>job-signals</c> must have exactly the log's partition count.
/// </summary>
sealed class IngestWorker(
    IServiceProvider services,
    IOptions<KafkaOptions> kafkaOptions,
    IOptions<IngestOptions> ingestOptions,
    SignalShards shards,
    TopicProvisioner topics,
    ILogger<IngestWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var kafka = kafkaOptions.Value;
        var options = ingestOptions.Value;
        await topics.EnsureTopicsAsync([kafka.SignalsTopic, kafka.SignalsDeadLetterTopic], stoppingToken);
        if (shards.Partitions is { } logPartitions)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    RequirePartitions(kafka, logPartitions);
                    break;
                }
                catch (KafkaException e) when (TransientFaults.IsTransient(e))
                {
                    logger.LogWarning(e, "Could not describe {Topic} yet; trying again", kafka.SignalsTopic);
                    await Task.Delay(Backoff.Delay(attempt), stoppingToken);
                }
            }
        }
        if (options.ForgetStoredOffsetsOnStart)
        {
            for (var shard = 0; shard < shards.Count; shard++)
            {
                var forgotten = await shards.Log(shard).ForgetKafkaOffsetsAsync(options.ConsumerGroup, kafka.SignalsTopic, stoppingToken);
                logger.LogInformation("The broker is new: forgot the offsets stored on shard {Shard} for {Partitions} partitions of an earlier one", shard, forgotten);
            }
        }
        var consumers = Enumerable.Range(1, options.Consumers)
            .Select(n => OnThread($"ingest consumer {n}", StaticMembership.InstanceId(options, n), ActivatorUtilities.CreateInstance<SignalConsumer>(services), stoppingToken))
            .ToList();
        await ConcurrentLoops.WhenAllOrFirstFailureAsync(consumers);
    }

    static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(30);

    static void RequirePartitions(KafkaOptions kafka, int logPartitions)
    {
        using var admin = new AdminClientBuilder(KafkaClientConfig.Admin(kafka, "streaming-ingest-admin")).Build();
        var topic = admin.GetMetadata(kafka.SignalsTopic, MetadataTimeout).Topics.SingleOrDefault(t => t.Topic == kafka.SignalsTopic);
        if (topic is null || topic.Error.Code != ErrorCode.NoError)
        {
            throw new InvalidOperationException($"'{kafka.SignalsTopic}' could not be described ({topic?.Error.Reason ?? "no metadata"}): with several shards its partitions must be the log's");
        }
        if (topic.Partitions.Count != logPartitions)
        {
            throw new InvalidOperationException(
                $"'{kafka.SignalsTopic}' has {topic.Partitions.Count} partitions and the store's log {logPartitions}: with several shards Kafka partition k is " +
                "log partition k, stored on its shard, so the two counts must be equal (Kafka:Partitions, Store:LogPartitions)");
        }
    }

    // Each consumer blocks a thread of its own in Consume and while its next batch waits for the previous commit, so it
    // holds no pool thread and no pool starvation delays it.
    static Task OnThread(string name, string? instanceId, SignalConsumer consumer, CancellationToken stoppingToken)
    {
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                consumer.Run(name, instanceId, stoppingToken);
                finished.SetResult();
            }
            catch (Exception e)
            {
                finished.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = name,
        };
        thread.Start();
        return finished.Task;
    }
}
