using Streaming.Embedded.Broker;
using System.Text;
using Confluent.Kafka;
using Streaming.Hosting.Kafka;
using Streaming.Contracts.Signals;

namespace Streaming.Tests.JobClient;

public sealed class Murmur2PartitionerTests
{
    // The cases of Kafka's own UtilsTest.testMurmur2.
    [Theory]
    [InlineData("21", -973932308)]
    [InlineData("foobar", -790332482)]
    [InlineData("a-little-bit-long-string", -985981536)]
    [InlineData("a-little-bit-longer-string", -1486304829)]
    [InlineData("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971)]
    [InlineData("abc", 479470107)]
    public void Hashes_keys_exactly_as_the_java_client_does(string key, int expected) =>
        Assert.Equal(expected, Murmur2Partitioner.Hash(Encoding.UTF8.GetBytes(key)));

    [Fact]
    public async Task Names_the_partition_librdkafka_writes_each_job_to()
    {
        // Given a 12-partition topic and a producer with the partitioner every Streaming client uses
        using var cluster = EmbeddedKafkaCluster.Start(brokers: 1);
        cluster.CreateTopic("partitioning", 12);
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            Partitioner = Partitioner.Murmur2Random,
        }).Build();

        // Then each job id lands in the partition the library computes for it
        foreach (var job in Enumerable.Range(0, 200).Select(i => $"cdc-orders-ü-{i}"))
        {
            var delivered = await producer.ProduceAsync("partitioning", new Message<string, string> { Key = job, Value = "x" });
            Assert.Equal(delivered.Partition.Value, Murmur2Partitioner.Partition(job, 12));
        }
    }
}
