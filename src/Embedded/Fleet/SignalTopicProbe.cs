using Confluent.Kafka;
using Streaming.Contracts.Signals;
using Streaming.Hosting.Kafka;

namespace Streaming.Embedded.Fleet;

/// <summary>What the signal topic holds when the fleet starts: where each partition's log ends, and the event time of the newest signal in it.</summary>
sealed record SignalTopicProbe(IReadOnlyList<long> LogEnds, DateTimeOffset? NewestEmittedAt)
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static SignalTopicProbe Read(KafkaOptions kafka)
    {
        var config = KafkaClientConfig.Consumer(kafka, "streaming-fleet-probe", "streaming-fleet-probe");
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config).Build();
        int partitions;
        using (var admin = new AdminClientBuilder(KafkaClientConfig.Admin(kafka, "streaming-fleet-probe")).Build())
        {
            partitions = admin.GetMetadata(kafka.SignalsTopic, Timeout).Topics.Single().Partitions.Count;
        }
        var ends = new long[partitions];
        var last = new List<TopicPartitionOffset>();
        for (var partition = 0; partition < partitions; partition++)
        {
            var marks = consumer.QueryWatermarkOffsets(new TopicPartition(kafka.SignalsTopic, partition), Timeout);
            ends[partition] = marks.High.Value;
            if (marks.High.Value > marks.Low.Value)
            {
                last.Add(new TopicPartitionOffset(kafka.SignalsTopic, partition, marks.High.Value - 1));
            }
        }
        return new SignalTopicProbe(ends, Newest(consumer, last));
    }

    // Reads the last message of each partition that has one; the newest valid signal among them says where the fleet stopped.
    static DateTimeOffset? Newest(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> last)
    {
        if (last.Count == 0)
        {
            return null;
        }
        consumer.Assign(last);
        DateTimeOffset? newest = null;
        var deadline = DateTime.UtcNow + Timeout;
        for (var read = 0; read < last.Count && DateTime.UtcNow < deadline;)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is not { Message: { } message })
            {
                continue;
            }
            read++;
            if (message.Value is { } value && JobSignalReader.Read(message.Key ?? [], value, message.Key is not null).Signal is { } signal
                && (newest is null || signal.EmittedAt > newest))
            {
                newest = signal.EmittedAt;
            }
        }
        consumer.Unassign();
        return newest;
    }
}
