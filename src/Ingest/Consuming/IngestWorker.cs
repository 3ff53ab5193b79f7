using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streaming.EventStore;
using Streaming.Ingest.Appending;
using Streaming.Hosting;
using Streaming.Hosting.Kafka;

namespace Streaming.Ingest.Consuming;

/// <summary>
/// Runs <see cref="IngestOptions.Consumers"/> signal consumers side by side. A job's signals share a partition, so the
/// consumers append to disjoint streams and their transactions run in parallel in PostgreSQL.
/// </summary>
sealed class IngestWorker(
    IServiceProvider services,
    IOptions<KafkaOptions> kafkaOptions,
    IOptions<IngestOptions> ingestOptions,
    SignalLog store,
    TopicProvisioner topics,
    ILogger<IngestWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var kafka = kafkaOptions.Value;
        var options = ingestOptions.Value;
        await topics.EnsureTopicsAsync([kafka.SignalsTopic, kafka.SignalsDeadLetterTopic], stoppingToken);
        if (options.ForgetStoredOffsetsOnStart)
        {
            var forgotten = await store.ForgetKafkaOffsetsAsync(options.ConsumerGroup, kafka.SignalsTopic, stoppingToken);
            logger.LogInformation("The broker is new: forgot the offsets stored for {Partitions} partitions of an earlier one", forgotten);
        }
        var consumers = Enumerable.Range(1, options.Consumers)
            .Select(n => OnThread($"ingest consumer {n}", StaticMembership.InstanceId(options, n), ActivatorUtilities.CreateInstance<SignalConsumer>(services), stoppingToken))
            .ToList();
        await ConcurrentLoops.WhenAllOrFirstFailureAsync(consumers);
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
