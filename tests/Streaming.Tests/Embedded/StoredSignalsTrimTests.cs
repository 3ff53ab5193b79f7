using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Embedded.Broker;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Embedded;

/// <summary>
/// The embedded broker deletes the signals Ingest has stored, all but the last <see cref="StoredSignalsTrim.Kept"/> of
/// each partition, and nothing that is not stored.
/// </summary>
public sealed class StoredSignalsTrimTests
{
    const string Topic = "trimmed-signals";

    [Fact]
    public async Task Deletes_what_is_stored_but_the_last_thousand_of_each_partition_and_nothing_past_a_stored_offset_the_broker_never_reached()
    {
        // Given a broker whose partition 0 holds 3,000 signals and partition 1 holds 500, each produced alone
        using var cluster = EmbeddedKafkaCluster.Start(brokers: 1);
        cluster.CreateTopic(Topic, 2);
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, LingerMs = 0 }).Build())
        {
            foreach (var (partition, count) in new[] { (0, 3_000), (1, 500) })
            {
                for (var n = 0; n < count; n++)
                {
                    producer.Produce(new TopicPartition(Topic, partition), new Message<string, string> { Key = $"job-{n}", Value = "{}" });
                }
            }
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }
        var stored = new Dictionary<int, long> { [0] = 2_500, [1] = 400 };
        var trim = new StoredSignalsTrim(cluster, Topic, _ => Task.FromResult<IReadOnlyDictionary<int, long>>(stored), NullLogger<StoredSignalsTrim>.Instance);

        // When Ingest has stored 2,500 of partition 0 and 400 of partition 1
        var trimmed = await trim.TrimAsync(CancellationToken.None);

        // Then partition 0 starts 1,000 before its stored offset, and partition 1, with fewer than 1,000 stored, keeps all
        Assert.Equal(1, trimmed);
        Assert.Equal((1_500, 3_000), Watermarks(cluster, 0));
        Assert.Equal((0, 500), Watermarks(cluster, 1));
        Assert.Equal(1_500, FirstOffset(cluster, 0));

        // When nothing more is stored, nothing more is deleted
        Assert.Equal(0, await trim.TrimAsync(CancellationToken.None));

        // When a stored offset lies past the partition's end (stored for an earlier broker), nothing is deleted and nothing fails
        stored[0] = 10_000;
        Assert.Equal(0, await trim.TrimAsync(CancellationToken.None));
        Assert.Equal((1_500, 3_000), Watermarks(cluster, 0));

        // When Ingest stores the rest, all but the last 1,000 go
        stored[0] = 3_000;
        stored[1] = 500;
        Assert.Equal(1, await trim.TrimAsync(CancellationToken.None));
        Assert.Equal((2_000, 3_000), Watermarks(cluster, 0));
        Assert.Equal((0, 500), Watermarks(cluster, 1));
    }

    [Fact]
    public async Task Goes_on_when_the_stored_offsets_cannot_be_read_and_deletes_once_they_can()
    {
        // Given a broker whose partition 0 holds 1,500 signals, and stored offsets that cannot be read at first (the store is down)
        using var cluster = EmbeddedKafkaCluster.Start(brokers: 1);
        cluster.CreateTopic(Topic, 1);
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            for (var n = 0; n < 1_500; n++)
            {
                producer.Produce(new TopicPartition(Topic, 0), new Message<string, string> { Key = $"job-{n}", Value = "{}" });
            }
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }
        var reads = 0;
        Task<IReadOnlyDictionary<int, long>> Stored(CancellationToken _) => ++reads switch
        {
            1 => throw new Npgsql.NpgsqlException("the store is down"),
            2 => throw new TaskCanceledException("a read timed out"),
            _ => Task.FromResult<IReadOnlyDictionary<int, long>>(new Dictionary<int, long> { [0] = 1_500 }),
        };
        using var trim = new StoredSignalsTrim(cluster, Topic, Stored, NullLogger<StoredSignalsTrim>.Instance);

        // When it runs through two failed reads, one of them timed out
        await trim.StartAsync(CancellationToken.None);
        try
        {
            // Then it deletes once the offsets can be read again, all but the last 1,000
            await Eventually.True(() => Task.FromResult(Watermarks(cluster, 0).Low == 500), TimeSpan.FromSeconds(30), "the stored signals to be deleted after the outage");
            Assert.True(reads >= 3, $"{reads} reads");
        }
        finally
        {
            await trim.StopAsync(CancellationToken.None);
        }
    }

    static (long Low, long High) Watermarks(EmbeddedKafkaCluster cluster, int partition)
    {
        using var consumer = Consumer(cluster);
        var marks = consumer.QueryWatermarkOffsets(new TopicPartition(Topic, partition), TimeSpan.FromSeconds(10));
        return (marks.Low.Value, marks.High.Value);
    }

    static long FirstOffset(EmbeddedKafkaCluster cluster, int partition)
    {
        using var consumer = Consumer(cluster);
        consumer.Assign(new TopicPartitionOffset(Topic, partition, Offset.Beginning));
        var first = consumer.Consume(TimeSpan.FromSeconds(10)) ?? throw new TimeoutException("nothing to read from the partition");
        return first.Offset.Value;
    }

    static IConsumer<string, string> Consumer(EmbeddedKafkaCluster cluster) =>
        new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            GroupId = "trim-test",
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
}
