using System.Collections.Concurrent;
using Confluent.Kafka;
using MassTransit;

namespace Streaming.Bench.Delivery;

/// <summary>
/// The raw limit of each path: one message produced and consumed through the same broker, nothing else, timed from
/// the produce call to the consumer's hand. Taken under the same background load as the probes.
/// </summary>
public sealed class RawRoundTrips : IAsyncDisposable
{
    const string Topic = "bench-latency-ping";

    readonly IProducer<string, byte[]> _producer;
    readonly IConsumer<string, byte[]> _consumer;
    readonly IBusControl _bus;
    readonly ConcurrentDictionary<Guid, TaskCompletionSource<DateTimeOffset>> _waiting = new();

    RawRoundTrips(IProducer<string, byte[]> producer, IConsumer<string, byte[]> consumer, IBusControl bus)
    {
        _producer = producer;
        _consumer = consumer;
        _bus = bus;
    }

    public static async Task<RawRoundTrips> StartAsync(string bootstrapServers, int fetchWaitMs, Uri rabbitMq, CancellationToken cancellationToken)
    {
        var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrapServers, LingerMs = 0, Acks = Acks.All }).Build();
        // The embedded broker creates a topic when it is first produced to.
        var first = await producer.ProduceAsync(Topic, new Message<string, byte[]> { Key = "create", Value = [] }, cancellationToken);
        var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "bench-ping",
            EnableAutoCommit = false,
            FetchWaitMaxMs = fetchWaitMs,
        }).Build();
        consumer.Assign(new TopicPartitionOffset(first.TopicPartition, Offset.End));
        RawRoundTrips? trips = null;
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(rabbitMq, "streaming-bench-ping", _ => { });
            cfg.ReceiveEndpoint("bench.latency-ping", e =>
            {
                e.AutoDelete = true;
                e.Handler<LatencyPing>(context =>
                {
                    trips!.Arrived(context.Message.Id);
                    return Task.CompletedTask;
                });
            });
        });
        var handle = await bus.StartAsync(cancellationToken);
        await handle.Ready.WaitAsync(TimeSpan.FromMinutes(1), cancellationToken);
        trips = new RawRoundTrips(producer, consumer, bus);
        return trips;
    }

    /// <summary>One produce → consume round trip through Kafka on the same partition.</summary>
    public TimeSpan Kafka(CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        // No Flush: it returns on librdkafka's poll interval (about 10 ms here), after the message may have arrived, and
        // the probes' own produce calls are timed without it.
        _producer.Produce(_consumer.Assignment[0], new Message<string, byte[]> { Key = "ping", Value = [] });
        while (_consumer.Consume(cancellationToken) is not { Message: not null })
        {
        }
        return DateTimeOffset.UtcNow - started;
    }

    /// <summary>One publish → consume round trip through RabbitMQ with MassTransit.</summary>
    public async Task<TimeSpan> BusAsync(CancellationToken cancellationToken)
    {
        var ping = new LatencyPing(Guid.NewGuid());
        var arrived = _waiting.GetOrAdd(ping.Id, _ => new TaskCompletionSource<DateTimeOffset>(TaskCreationOptions.RunContinuationsAsynchronously));
        var started = DateTimeOffset.UtcNow;
        await _bus.Publish(ping, cancellationToken);
        var at = await arrived.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        _waiting.TryRemove(ping.Id, out _);
        return at - started;
    }

    void Arrived(Guid id) =>
        _waiting.GetOrAdd(id, _ => new TaskCompletionSource<DateTimeOffset>(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(DateTimeOffset.UtcNow);

    public async ValueTask DisposeAsync()
    {
        _producer.Dispose();
        _consumer.Close();
        _consumer.Dispose();
        await _bus.StopAsync(TimeSpan.FromSeconds(10));
    }
}
