using Confluent.Kafka;

namespace Streaming.Hosting.Kafka;

/// <summary>Builds the Confluent client configurations every service uses from <see cref="KafkaOptions"/>.</summary>
public static class KafkaClientConfig
{
    public static ProducerConfig Producer(KafkaOptions options, string clientId) =>
        WithClientProperties(options, new ProducerConfig
        {
            BootstrapServers = options.BootstrapServers,
            ClientId = clientId,
            EnableIdempotence = true,
            Acks = Acks.All,
            Partitioner = Partitioner.Murmur2Random,
            LingerMs = 5,
        });

    public static ConsumerConfig Consumer(KafkaOptions options, string clientId, string groupId)
    {
        var sessionTimeout = (int)options.ConsumerSessionTimeout.TotalMilliseconds;
        return WithClientProperties(options, new ConsumerConfig
        {
            BootstrapServers = options.BootstrapServers,
            ClientId = clientId,
            GroupId = groupId,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.RoundRobin,
            IsolationLevel = IsolationLevel.ReadCommitted,
            SessionTimeoutMs = sessionTimeout,
            HeartbeatIntervalMs = Math.Max(100, sessionTimeout / 5),
            // librdkafka prefetches up to 64 MiB per consumer by default: memory the all-in-one process cannot spare, and
            // far more than the few batches ahead a consumer needs.
            QueuedMaxMessagesKbytes = 16 * 1024,
        });
    }

    public static AdminClientConfig Admin(KafkaOptions options, string clientId) =>
        WithClientProperties(options, new AdminClientConfig { BootstrapServers = options.BootstrapServers, ClientId = clientId });

    static T WithClientProperties<T>(KafkaOptions options, T config) where T : ClientConfig
    {
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
