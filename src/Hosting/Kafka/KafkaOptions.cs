using System.Globalization;
using Streaming.EventStore;

namespace Streaming.Hosting.Kafka;

/// <summary>Where the Kafka-protocol brokers are and which topics carry the wire contract (configuration section <c>Kafka</c>).</summary>
public sealed class KafkaOptions
{
    public const string Section = "Kafka";

    public string BootstrapServers { get; set; } = "localhost:9092";

    public string SignalsTopic { get; set; } = Contracts.Topics.Signals;

    public string SignalsDeadLetterTopic { get; set; } = Contracts.Topics.SignalsDeadLetter;

    public string PhaseChangesTopic { get; set; } = Contracts.Topics.PhaseChanges;

    /// <summary>
    /// In a sharded store (<c>Store:Shards</c> &gt; 1), the topic each shard's Projector and Promoter groups share out in
    /// place of <see cref="SignalsTopic"/>, <c>{shard}</c> standing for the shard's number: as many partitions as the
    /// shard holds log partitions, its partition i standing for the shard's i-th, so a group splits its shard's partitions
    /// alone. Nothing is written to it.
    /// </summary>
    public string ShardGroupTopic { get; set; } = Contracts.Topics.ShardGroup;

    /// <summary>Shard <paramref name="shard"/>'s group topic (<see cref="ShardGroupTopic"/>).</summary>
    public string ShardGroupTopicOf(int shard) =>
        ShardGroupTopic.Replace("{shard}", shard.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    /// <summary>Each shard's group topic with its partition count, for a store sharded as <paramref name="map"/>; none for one shard.</summary>
    public IReadOnlyList<(string Topic, int Partitions)> ShardGroupTopics(ShardMap map) =>
        map.Shards == 1 ? [] : [.. Enumerable.Range(0, map.Shards).Select(shard => (ShardGroupTopicOf(shard), map.PartitionsOf(shard).Count))];

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
