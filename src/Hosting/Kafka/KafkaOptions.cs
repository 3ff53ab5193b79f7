namespace Streaming.Hosting.Kafka;

/// <summary>Where the Kafka-protocol brokers are and which topics carry the wire contract (configuration section <c>Kafka</c>).</summary>
public sealed class KafkaOptions
{
    public const string Section = "Kafka";

    public string BootstrapServers { get; set; } = "localhost:9092";

    public string SignalsTopic { get; set; } = Contracts.Topics.Signals;

    public string SignalsDeadLetterTopic { get; set; } = Contracts.Topics.SignalsDeadLetter;

    public string PhaseChangesTopic { get; set; } = Contracts.Topics.PhaseChanges;

    /// <summary>Create missing topics with the admin API on start; off against the embedded broker, which has no CreateTopics.</summary>
    public bool CreateTopics { get; set; } = true;

    public int Partitions { get; set; } = 12;

    public short ReplicationFactor { get; set; } = 1;

    /// <summary>
    /// How long a silent group member keeps its partitions. librdkafka sometimes abandons the member id the broker gave
    /// it while joining (confluentinc/librdkafka#5569), and the group then waits this long before anyone consumes, so it
    /// is shorter than Kafka's 45 s default. Heartbeats come from librdkafka's own thread, so slow batches do not count.
    /// </summary>
    public TimeSpan ConsumerSessionTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Further librdkafka properties (e.g. security.protocol, sasl.*) applied to every client, over the settings above.</summary>
    public Dictionary<string, string> Client { get; set; } = [];
}
