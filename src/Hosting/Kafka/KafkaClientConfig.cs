using Confluent.Kafka;

namespace Streaming.Hosting.Kafka;

/// <summary>Builds the Confluent client configurations every service uses from <see cref="KafkaOptions"/>.</summary>
public static class KafkaClientConfig
{
    public static ProducerConfig Producer(KafkaOptions options, string clientId)
    {
        var config = new ProducerConfig(Common(options, clientId))
        {
            EnableIdempotence = true,
            Acks = Acks.All,
            Partitioner = Partitioner.Murmur2Random,
            LingerMs = 5,
        };
        return config;
    }

    public static ConsumerConfig Consumer(KafkaOptions options, string clientId, string groupId) =>
        new(Common(options, clientId))
        {
            GroupId = groupId,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.RoundRobin,
            IsolationLevel = IsolationLevel.ReadCommitted,
        };

    public static AdminClientConfig Admin(KafkaOptions options, string clientId) => new(Common(options, clientId));

    static ClientConfig Common(KafkaOptions options, string clientId)
    {
        var config = new ClientConfig { BootstrapServers = options.BootstrapServers, ClientId = clientId };
        foreach (var (key, value) in options.Client)
        {
            if (!string.IsNullOrEmpty(value))
            {
                config.Set(key, value);
            }
        }
        return config;
    }
}
