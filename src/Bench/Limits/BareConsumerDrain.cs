using System.Diagnostics;
using Confluent.Kafka;
using Streaming.Bench.Workload;

namespace Streaming.Bench.Limits;

/// <summary>
/// The broker-side limit: how fast a bare Confluent.Kafka consumer group drains the signal topic from the same broker,
/// doing nothing with the messages. The topic gets enough partitions that the broker's 5 MB-per-partition retention
/// keeps the whole run.
/// </summary>
public static class BareConsumerDrain
{
    public static Measurement Run(string bootstrapServers, Action<string, int> createTopic, SignalWorkload workload, int messages)
    {
        var topic = "bench-drain-" + Guid.NewGuid().ToString("N")[..8];
        createTopic(topic, 64);
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            LingerMs = 20,
            BatchSize = 1_000_000,
            EnableIdempotence = true,
            Partitioner = Partitioner.Murmur2Random,
        }).Build())
        {
            for (var n = 0; n < messages; n++)
            {
                var (key, value) = workload.Message(n);
                Produce(producer, topic, key, value);
            }
            producer.Flush(TimeSpan.FromMinutes(2));
        }
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "bench-drain",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe(topic);
        var received = 0;
        Stopwatch? clock = null;
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (received < messages && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is not null)
            {
                clock ??= Stopwatch.StartNew();
                received++;
            }
        }
        consumer.Close();
        if (received < messages)
        {
            throw new InvalidOperationException($"the drain read only {received} of {messages} messages: the broker dropped some (retention)");
        }
        return new Measurement("bare consumer drain", received, clock!.Elapsed);
    }

    static void Produce(IProducer<string, byte[]> producer, string topic, string key, byte[] value)
    {
        while (true)
        {
            try
            {
                producer.Produce(topic, new Message<string, byte[]> { Key = key, Value = value });
                return;
            }
            catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(50));
            }
        }
    }
}
