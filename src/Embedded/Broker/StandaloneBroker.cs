using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
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
/// stored for an earlier broker, then announces where it listens to the supervisor that started it. It deletes the
/// signals Ingest has stored, as the all-in-one process does (<see cref="StoredSignalsTrim"/>). With
/// <c>Broker:BootstrapPort</c> set (a container), clients bootstrap on that fixed port of 127.0.0.1.
/// </summary>
sealed partial class StandaloneBroker(
    KafkaOptions kafka,
    IOptions<IngestOptions> ingestOptions,
    SignalLog store,
    ServedShard served,
    IConfiguration configuration,
    ILoggerFactory loggers,
    ILogger<StandaloneBroker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var cluster = EmbeddedKafkaCluster.Start();
        foreach (var topic in new[] { kafka.SignalsTopic, kafka.SignalsDeadLetterTopic, kafka.PhaseChangesTopic })
        {
            cluster.CreateTopic(topic, kafka.Partitions);
        }
        // A sharded store's Projector and Promoter groups share out their shard's own topic (run.sh exports Store__Shards to every process).
        foreach (var (topic, partitions) in kafka.ShardGroupTopics(new ShardMap(served.Shards, kafka.Partitions)))
        {
            cluster.CreateTopic(topic, partitions);
        }
        var bootstrapPort = configuration.GetValue<int?>("Broker:BootstrapPort");
        await using var forwarder = bootstrapPort is { } port ? new BootstrapForwarder(port, cluster.BootstrapServers.Split(',')[0]) : null;
        var bootstrapServers = forwarder?.Address ?? cluster.BootstrapServers;
        var group = ingestOptions.Value.ConsumerGroup;
        var forgotten = await store.ForgetKafkaOffsetsAsync(group, kafka.SignalsTopic, stoppingToken);
        LogStarted(logger, bootstrapServers, kafka.Partitions, forgotten, group);
        // Every offset stored from here on was read from this broker.
        using var trim = new StoredSignalsTrim(
            cluster, kafka.SignalsTopic, token => store.LoadKafkaOffsetsAsync(group, kafka.SignalsTopic, token), loggers.CreateLogger<StoredSignalsTrim>());
        await trim.StartAsync(stoppingToken);
        var announcement = new Announcement(
            new JsonObject
            {
                ["kafkaBootstrapServers"] = bootstrapServers,
                ["signalsTopic"] = kafka.SignalsTopic,
                ["signalsDeadLetterTopic"] = kafka.SignalsDeadLetterTopic,
                ["phaseChangesTopic"] = kafka.PhaseChangesTopic,
            },
            new Dictionary<string, string>
            {
                ["Kafka__BootstrapServers"] = bootstrapServers,
                ["Kafka__CreateTopics"] = "false",
                ["Kafka__ConsumerSessionTimeout"] = kafka.ConsumerSessionTimeout.ToString(),
            });
        if (!announcement.Publish())
        {
            Console.WriteLine($"Kafka bootstrap servers: {bootstrapServers}");
        }
        try
        {
            await Task.Delay(Timeout.Infinite, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await trim.StopAsync(CancellationToken.None);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded broker listening on {BootstrapServers} ({Partitions} partitions a topic); forgot the offsets stored for {Forgotten} partitions of an earlier broker (group {Group})")]
    static partial void LogStarted(ILogger logger, string bootstrapServers, int partitions, int forgotten, string group);
}
