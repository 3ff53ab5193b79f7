using Confluent.Kafka;
using Streaming.Contracts.Signals;
using Streaming.Hosting.Kafka;

namespace Streaming.Embedded.Fleet;

/// <summary>
/// What the signal topic holds when the fleet starts: where each partition's log ends, and the event time of the newest
/// signal of one of the fleet's jobs among the last messages of each partition (other producers keep clocks of their own).
/// </summary>
sealed record SignalTopicProbe(IReadOnlyList<long> LogEnds, DateTimeOffset? NewestEmittedAt)
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    const int LookBack = 1_000;

    public static SignalTopicProbe Read(KafkaOptions kafka, IReadOnlySet<string> jobIds)
    {
        var config = KafkaClientConfig.Consumer(kafka, "streaming-fleet-probe", "streaming-fleet-probe");
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config).Build();
        int partitions;
        using (var admin = new AdminClientBuilder(KafkaClientConfig.Admin(kafka, "streaming-fleet-probe")).Build())
        {
            partitions = admin.GetMetadata(kafka.SignalsTopic, Timeout).Topics.Single().Partitions.Count;
        }
        var ends = new long[partitions];
        var tails = new List<TopicPartitionOffset>();
        for (var partition = 0; partition < partitions; partition++)
        {
            var marks = consumer.QueryWatermarkOffsets(new TopicPartition(kafka.SignalsTopic, partition), Timeout);
            ends[partition] = marks.High.Value;
            if (marks.High.Value > marks.Low.Value)
            {
                tails.Add(new TopicPartitionOffset(kafka.SignalsTopic, partition, Math.Max(marks.Low.Value, marks.High.Value - LookBack)));
            }
        }
        return new SignalTopicProbe(ends, Newest(consumer, tails, ends, jobIds));
    }

    // Reads the last messages of each partition up to its end; the newest signal of the fleet's jobs says where it stopped.
    static DateTimeOffset? Newest(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> tails, long[] ends, IReadOnlySet<string> jobIds)
    {
        if (tails.Count == 0)
        {
            return null;
        }
        consumer.Assign(tails);
        var unread = tails.Select(t => t.Partition.Value).ToHashSet();
        DateTimeOffset? newest = null;
        var deadline = DateTime.UtcNow + Timeout;
        while (unread.Count > 0 && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is not { Message: { } message } result)
            {
                continue;
            }
            if (result.Offset.Value >= ends[result.Partition.Value] - 1)
            {
                unread.Remove(result.Partition.Value);
            }
            if (message.Key is { } key && message.Value is { } value
                && JobSignalReader.Read(key, value).Signal is { } signal && jobIds.Contains(signal.JobId)
                && (newest is null || signal.EmittedAt > newest))
            {
                newest = signal.EmittedAt;
            }
        }
        consumer.Unassign();
        return newest;
    }
}
