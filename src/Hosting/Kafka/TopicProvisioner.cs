using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Logging;

namespace Streaming.Hosting.Kafka;

/// <summary>Creates the contract's topics on a real cluster when they are missing (the embedded broker creates its own).</summary>
public sealed class TopicProvisioner(KafkaOptions options, ILogger<TopicProvisioner> logger)
{
    public async Task EnsureTopicsAsync(IEnumerable<string> topics, CancellationToken cancellationToken)
    {
        if (!options.CreateTopics)
        {
            return;
        }
        using var admin = new AdminClientBuilder(KafkaClientConfig.Admin(options, "streaming-admin")).Build();
        var wanted = topics.Distinct(StringComparer.Ordinal)
            .Select(name => new TopicSpecification { Name = name, NumPartitions = options.Partitions, ReplicationFactor = options.ReplicationFactor })
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
