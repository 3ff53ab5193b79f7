using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Streaming.Contracts;
using Streaming.Embedded.Broker;
using Streaming.Embedded.Fleet;
using Streaming.EventStore;
using Streaming.Ingest.Appending;
using Streaming.Hosting.Resilience;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Reliability;

/// <summary>The fleet's pacing: however fast it could produce, no partition gets further ahead of what Ingest stored than the bound.</summary>
public sealed class IngestPacingTests
{
    const int Partitions = 4;
    const int Bound = 1_000;
    const int Messages = 12_000;

    [Fact]
    public async Task A_producer_never_gets_more_than_the_bound_ahead_of_the_offsets_ingest_stored_on_any_partition()
    {
        // Given a broker, a store, and an Ingest that stores 40 offsets a partition every 20 ms (about 8,000 a second)
        await using var database = new MigratedDatabase();
        await database.InitializeAsync();
        using var cluster = EmbeddedKafkaCluster.Start();
        cluster.CreateTopic(Topics.Signals, Partitions);
        var pacing = new IngestPacing(new SignalLog(database.DataSource), "streaming-ingest", Topics.Signals, new long[Partitions], Bound, new LoopHealth(), NullLogger.Instance);
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, LingerMs = 1 }).Build();
        using var watermarks = new ConsumerBuilder<string, string>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = "pacing-test" }).Build();
        using var done = new CancellationTokenSource();
        var stored = new long[Partitions];
        long mostAhead = 0;
        var ingest = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                for (var partition = 0; partition < Partitions; partition++)
                {
                    var end = watermarks.QueryWatermarkOffsets(new TopicPartition(Topics.Signals, partition), TimeSpan.FromSeconds(5)).High.Value;
                    mostAhead = Math.Max(mostAhead, end - stored[partition]);
                    stored[partition] = Math.Min(end, stored[partition] + 40);
                    await StoreOffsetAsync(database.DataSource, partition, stored[partition]);
                }
                await Task.Delay(20);
            }
        });

        // When it produces 12,000 messages as fast as the pacing lets it
        for (var n = 0; n < Messages; n++)
        {
            if (n % pacing.Chunk == 0)
            {
                await pacing.WaitForRoomAsync(pacing.Chunk, CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1));
            }
            producer.Produce(Topics.Signals, new Message<string, string> { Key = $"job-{n % 97}", Value = "x" },
                report => pacing.Completed(report.Error.IsError ? null : report.Partition.Value));
            pacing.Produced();
        }
        producer.Flush(TimeSpan.FromSeconds(30));
        await done.CancelAsync();
        await ingest;

        // Then every message went out, and no partition was ever more than the bound ahead of the stored offsets
        var produced = Enumerable.Range(0, Partitions)
            .Sum(p => watermarks.QueryWatermarkOffsets(new TopicPartition(Topics.Signals, p), TimeSpan.FromSeconds(5)).High.Value);
        Assert.Equal(Messages, produced);
        Assert.InRange(mostAhead, 1, Bound);
    }

    static async Task StoreOffsetAsync(NpgsqlDataSource dataSource, int partition, long next)
    {
        await using var command = dataSource.CreateCommand(
            """
            insert into es.kafka_offsets (consumer_group, topic, partition, next_offset) values ('streaming-ingest', $1, $2, $3)
            on conflict (consumer_group, topic, partition) do update set next_offset = excluded.next_offset
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Topics.Signals });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = partition });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = next });
        await command.ExecuteNonQueryAsync();
    }
}
