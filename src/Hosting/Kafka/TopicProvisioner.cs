using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Logging;

namespace Streaming.Hosting.Kafka;

/// <summary>Creates the contract's topics on a real cluster when they are missing (the embedded broker creates its own).</summary>
public sealed class TopicProvisioner(KafkaOptions options, ILogger<TopicProvisioner> logger)
{
    public const string CleanupPolicy = "cleanup.policy";

    public Task EnsureTopicsAsync(IEnumerable<string> topics, CancellationToken cancellationToken) =>
        EnsureTopicsAsync(topics, options.Partitions, new Dictionary<string, string>(), cancellationToken);

    /// <summary>Creates <paramref name="topic"/> with <paramref name="partitions"/> partitions when it is missing (one of another count is left as it is).</summary>
    public Task EnsureTopicAsync(string topic, int partitions, CancellationToken cancellationToken) =>
        EnsureTopicsAsync([topic], partitions, new Dictionary<string, string>(), cancellationToken);

    /// <summary>
    /// Creates a log-compacted topic (Kafka keeps at least the last record of every key), or makes an existing one
    /// compacted: its last record per key is the current state, which a reader starting late reads from the beginning.
    /// </summary>
    public async Task EnsureCompactedTopicAsync(string topic, CancellationToken cancellationToken)
    {
        if (!options.CreateTopics)
        {
            return;
        }
        await EnsureTopicsAsync([topic], options.Partitions, new Dictionary<string, string> { [CleanupPolicy] = "compact" }, cancellationToken);
        using var admin = new AdminClientBuilder(KafkaClientConfig.Admin(options, "streaming-admin")).Build();
        var resource = new ConfigResource { Type = ResourceType.Topic, Name = topic };
        var described = await admin.DescribeConfigsAsync([resource]).WaitAsync(cancellationToken);
        var policy = described.Single().Entries.GetValueOrDefault(CleanupPolicy)?.Value ?? "delete";
        if (!policy.Split(',').Contains("compact", StringComparer.Ordinal))
        {
            logger.LogWarning("Topic {Topic} had {Setting}={Policy}; setting it to compact", topic, CleanupPolicy, policy);
            var change = new Dictionary<ConfigResource, List<ConfigEntry>>
            {
                [resource] = [new ConfigEntry { Name = CleanupPolicy, Value = "compact", IncrementalOperation = AlterConfigOpType.Set }],
            };
            await admin.IncrementalAlterConfigsAsync(change).WaitAsync(cancellationToken);
        }
    }

    async Task EnsureTopicsAsync(IEnumerable<string> topics, int partitions, Dictionary<string, string> configs, CancellationToken cancellationToken)
    {
        if (!options.CreateTopics)
        {
            return;
        }
        using var admin = new AdminClientBuilder(KafkaClientConfig.Admin(options, "streaming-admin")).Build();
        var wanted = topics.Distinct(StringComparer.Ordinal)
            .Select(name => new TopicSpecification
            {
                Name = name,
                NumPartitions = partitions,
                ReplicationFactor = options.ReplicationFactor,
                Configs = configs,
            })
            .ToList();
        try
        {
            await admin.CreateTopicsAsync(wanted).WaitAsync(cancellationToken);
            logger.LogInformation("Created topics {Topics}", wanted.Select(t => t.Name));
        }
        catch (CreateTopicsException e)
        {
            var failed = e.Results.Where(r => r.Error.Code is not (ErrorCode.NoError or ErrorCode.TopicAlreadyExists)).ToList();
            if (failed.Count > 0)
            {
                throw new InvalidOperationException(
                    "Could not create topics: " + string.Join("; ", failed.Select(r => $"{r.Topic}: {r.Error.Reason}")), e);
            }
        }
    }
}
