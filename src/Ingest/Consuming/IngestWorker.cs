using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streaming.EventStore;
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
        // Each consumer blocks its own thread in Consume.
        var consumers = Enumerable.Range(1, options.Consumers)
            .Select(n => (Name: $"ingest consumer {n}", Consumer: ActivatorUtilities.CreateInstance<SignalConsumer>(services)))
            .Select(c => Task.Run(() => c.Consumer.RunAsync(c.Name, stoppingToken), CancellationToken.None))
            .ToList();
        await ConcurrentLoops.WhenAllOrFirstFailureAsync(consumers);
    }
}
