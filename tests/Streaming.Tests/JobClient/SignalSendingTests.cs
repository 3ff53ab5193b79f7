using System.Text;
using Confluent.Kafka;
using Streaming.Embedded.Broker;
using Streaming.Contracts;
using Streaming.Contracts.Json;
using Streaming.Contracts.Signals;
using Streaming.Hosting.Kafka;
using Streaming.JobClient;
using Streaming.JobClient.Signals;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.JobClient;

public sealed class SignalSendingTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Signals_reported_while_the_broker_is_down_are_sent_again_and_arrive_in_order_once_it_is_back()
    {
        // Given a job connected to a broker, whose messages (and requests) time out after a second when undelivered
        using var cluster = EmbeddedKafkaCluster.Start(brokers: 1);
        cluster.CreateTopic(Topics.Signals, 4);
        cluster.CreateTopic(Topics.PhaseChanges, 4);
        const string job = "sender-1";
        await using var client = await StreamingJob.StartAsync(new JobClientOptions
        {
            JobId = job,
            KafkaBootstrapServers = cluster.BootstrapServers,
            PhaseFeed = PhaseFeed.None,
            Linger = TimeSpan.FromMilliseconds(5),
            KafkaClient = new Dictionary<string, string> { ["message.timeout.ms"] = "1000", ["request.timeout.ms"] = "1000" },
        });

        // And one signal delivered, so the producer knows the topic's partitions before the broker goes away (until then
        // librdkafka holds undelivered messages unassigned instead of timing them out)
        client.Report(new Dictionary<string, double> { ["error_rate"] = -1 });
        await Eventually.True(() => Task.FromResult(client.SignalsSent == 1), Timeout, "the first signal to be delivered");

        // When the broker goes down and the job reports twenty signals
        cluster.SetBrokerDown(1);
        for (var i = 0; i < 20; i++)
        {
            client.Report(new Dictionary<string, double> { ["error_rate"] = i });
        }
        // (the sender takes what is queued when it wakes, and the rest waits behind the batch it sends again: on a loaded
        // machine it may wake after the first report, and a batch of one needs 20 failed attempts, minutes of backoff, to
        // count 20 retries)
        await Eventually.True(() => Task.FromResult(client.SignalsRetried >= 1 || client.SignalsDropped > 0), Timeout, "an undelivered signal to be sent again",
            () => Task.FromResult($"{client.SignalsRetried} retried, {client.SignalsDropped} dropped"));
        Assert.Equal(1, client.SignalsSent);

        // Then, once it is back, all twenty arrive in the job's partition, in the order reported, none twice
        cluster.SetBrokerUp(1);
        await Eventually.True(() => Task.FromResult(client.SignalsSent == 21), Timeout, "the twenty signals to be delivered");
        var delivered = Delivered(cluster);
        Assert.Equal(Enumerable.Range(-1, 21).Select(i => (double)i), delivered.Select(s => s.Metrics["error_rate"]));
        Assert.Equal(delivered.Select(s => s.Seq).Order().Distinct(), delivered.Select(s => s.Seq));
        Assert.Equal(0, client.SignalsDropped);
    }

    static List<JobSignal> Delivered(EmbeddedKafkaCluster cluster)
    {
        var partition = Murmur2Partitioner.Partition("sender-1", 4);
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            GroupId = "reader",
            EnableAutoCommit = false,
            SocketTimeoutMs = 2000,
        }).Build();
        var end = consumer.QueryWatermarkOffsets(new TopicPartition(Topics.Signals, partition), TimeSpan.FromSeconds(2)).High.Value;
        consumer.Assign(new TopicPartitionOffset(Topics.Signals, partition, Offset.Beginning));
        var signals = new List<JobSignal>();
        while (signals.Count < end && consumer.Consume(TimeSpan.FromSeconds(5)) is { Message: not null } record)
        {
            signals.Add(ContractsJson.Deserialize<JobSignal>(Encoding.UTF8.GetString(record.Message.Value)));
        }
        return signals;
    }
}
