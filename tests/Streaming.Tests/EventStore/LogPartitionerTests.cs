using Confluent.Kafka;
using Streaming.Contracts.History;
using Streaming.Embedded.Broker;
using Streaming.EventStore;

namespace Streaming.Tests.EventStore;

public sealed class LogPartitionerTests(PartitionedDatabase database) : IClassFixture<PartitionedDatabase>
{
    static readonly string[] Jobs = [.. Enumerable.Range(0, 200).Select(i => $"cdc-orders-ü-{i}"), "21", "foobar", "a-little-bit-long-string", "abc"];

    [Fact]
    public async Task Puts_each_job_in_the_partition_librdkafkas_murmur2_partitioner_writes_it_to()
    {
        // Given a topic of as many partitions as the log, and a producer with librdkafka's Java-compatible partitioner
        using var cluster = EmbeddedKafkaCluster.Start(brokers: 1);
        cluster.CreateTopic("log-partitions", PartitionedDatabase.Partitions);
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            Partitioner = Partitioner.Murmur2,
        }).Build();

        // Then every job's log partition is the partition its keyed messages land in
        foreach (var job in Jobs)
        {
            var delivered = await producer.ProduceAsync("log-partitions", new Message<string, string> { Key = job, Value = "x" });
            Assert.Equal(delivered.Partition.Value, PartitionedDatabase.Partitioner.PartitionOf(job));
        }
    }

    [Fact]
    public void Matches_the_java_clients_partitions_for_known_keys()
    {
        // toPositive(murmur2("foobar")) = 1357151166, and 1357151166 mod 50 = 16 (Kafka's UtilsTest vectors)
        Assert.Equal(16, new LogPartitioner(50, []).PartitionOf("foobar"));
        Assert.Equal((-973932308 & 0x7fffffff) % 12, new LogPartitioner(12, []).PartitionOf("21"));
        Assert.Equal((-58897971 & 0x7fffffff) % 7, new LogPartitioner(7, []).PartitionOf("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"));
    }

    [Fact]
    public void Puts_control_streams_in_the_control_partition_and_everything_in_partition_0_when_there_is_one()
    {
        var partitioner = new LogPartitioner(12, ControlStreamPrefixes.All);

        Assert.All(ControlStreamPrefixes.All, prefix => Assert.Equal(LogPartitioner.ControlPartition, partitioner.PartitionOf(prefix + "anything")));
        Assert.All(Jobs, job => Assert.Equal(0, LogPartitioner.Single.PartitionOf(job)));
        Assert.Equal(12, Jobs.Select(partitioner.PartitionOf).Distinct().Count());
    }

    [Fact]
    public async Task The_store_places_streams_by_the_same_rule()
    {
        var streams = Jobs.Concat(ControlStreamPrefixes.All.Select(p => p + "x")).ToArray();
        await using var command = database.DataSource.CreateCommand("select es.partition_of(s) from unnest($1::text[]) with ordinality t(s, n) order by n");
        command.Parameters.Add(new Npgsql.NpgsqlParameter<string[]> { TypedValue = streams });
        await using var reader = await command.ExecuteReaderAsync();
        var placed = new List<int>();
        while (await reader.ReadAsync())
        {
            placed.Add(reader.GetInt32(0));
        }

        Assert.Equal(streams.Select(PartitionedDatabase.Partitioner.PartitionOf), placed);
    }
}
