using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streaming.EventStore;
using Streaming.Ingest.Appending;
using Streaming.Hosting.Kafka;
using Streaming.Hosting.Supervision;
using Streaming.Ingest;

namespace Streaming.Embedded.Broker;

/// <summary>
/// The embedded broker as a process of its own (<c>Streaming.Embedded broker</c>), so that services can crash and
/// restart around it without taking the topics with them. It starts empty, so it first forgets the offsets Ingest
/// stored for an earlier broker, then announces where it listens to the supervisor that started it.
/// </summary>
sealed partial class StandaloneBroker(
    KafkaOptions kafka,
    IOptions<IngestOptions> ingestOptions,
    SignalLog store,
    ILogger<StandaloneBroker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var cluster = EmbeddedKafkaCluster.Start();
        foreach (var topic in new[] { kafka.SignalsTopic, kafka.SignalsDeadLetterTopic, kafka.PhaseChangesTopic })
        {
            cluster.CreateTopic(topic, kafka.Partitions);
        }
        var group = ingestOptions.Value.ConsumerGroup;
        var forgotten = await store.ForgetKafkaOffsetsAsync(group, kafka.SignalsTopic, stoppingToken);
        LogStarted(logger, cluster.BootstrapServers, kafka.Partitions, forgotten, group);
        var announcement = new Announcement(
            new JsonObject
            {
                ["kafkaBootstrapServers"] = cluster.BootstrapServers,
                ["signalsTopic"] = kafka.SignalsTopic,
                ["signalsDeadLetterTopic"] = kafka.SignalsDeadLetterTopic,
                ["phaseChangesTopic"] = kafka.PhaseChangesTopic,
            },
            new Dictionary<string, string>
            {
                ["Kafka__BootstrapServers"] = cluster.BootstrapServers,
                ["Kafka__CreateTopics"] = "false",
                ["Kafka__ConsumerSessionTimeout"] = kafka.ConsumerSessionTimeout.ToString(),
            });
        if (!announcement.Publish())
        {
            Console.WriteLine($"Kafka bootstrap servers: {cluster.BootstrapServers}");
        }
        try
        {
            await Task.Delay(Timeout.Infinite, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded broker listening on {BootstrapServers} ({Partitions} partitions a topic); forgot the offsets stored for {Forgotten} partitions of an earlier broker (group {Group})")]
    static partial void LogStarted(ILogger logger, string bootstrapServers, int partitions, int forgotten, string group);
}
