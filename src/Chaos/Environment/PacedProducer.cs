using Confluent.Kafka;
using Streaming.Chaos.Workload;
using Streaming.Contracts;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;

namespace Streaming.Chaos.Environment;

/// <summary>
/// Produces the workload to <c>job-signals</c> as fast as Ingest stores it and no faster: no partition may get more
/// than <c>maxUnstored</c> messages ahead of the offsets Ingest stored in <c>es.kafka_offsets</c> (the embedded broker
/// keeps 5 MB a partition). Every <see cref="Step"/> messages it hands control to the scenario, which injects its faults there.
/// With several shards a partition's stored offset is read from its shard; while a shard does not answer, the offsets it
/// last gave stand for its partitions (they only grow), so the other shards' partitions are fed on.
/// </summary>
public sealed class PacedProducer : IDisposable
{
    public const int Step = 500;
    readonly IProducer<byte[], byte[]> _producer;
    readonly StoreShards _store;
    readonly int _maxUnstored;
    readonly long[] _delivered;
    readonly long[] _stored;
    long _sent;
    long _completed;
    long _failed;
    string? _firstError;

    public PacedProducer(string bootstrapServers, StoreShards store, int partitions, int maxUnstored = 5_000)
    {
        _store = store;
        _maxUnstored = maxUnstored;
        _delivered = new long[partitions];
        _stored = new long[partitions];
        _producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            ClientId = "chaos-producer",
            EnableIdempotence = true,
            // The mock cluster checks an idempotent producer's sequences only for a transactional one: a request failed by
            // an injected error, retried after the next request to its partition succeeded, would land behind it, and the
            // job's signals after it would make its own stale. One request in flight a broker keeps each partition's order.
            MaxInFlight = 1,
            Acks = Acks.All,
            LingerMs = 5,
            Partitioner = Partitioner.Murmur2Random,
            // Faults last seconds; a message is never given up on within a run.
            MessageTimeoutMs = 600_000,
        }).SetLogHandler((_, _) => { }).Build();
    }

    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Messages the broker never acknowledged (the first error in <see cref="FirstError"/>).</summary>
    public long Failed => Interlocked.Read(ref _failed);

    public string? FirstError => _firstError;

    /// <summary>Produces every message, calling <paramref name="checkpoint"/> with the count sent so far every <see cref="Step"/> messages; returns once all are acknowledged.</summary>
    public async Task ProduceAsync(IEnumerable<WorkloadMessage> messages, Func<long, CancellationToken, Task> checkpoint, CancellationToken cancellationToken)
    {
        foreach (var message in messages)
        {
            if (Sent % Step == 0)
            {
                await checkpoint(Sent, cancellationToken);
                await WaitForRoomAsync(cancellationToken);
            }
            Produce(Topics.Signals, null, message.Key, message.Value);
        }
        await checkpoint(Sent, cancellationToken);
        await FlushAsync(cancellationToken);
    }

    /// <summary>Produces one message to a chosen partition and waits for the broker's acknowledgement; returns its offset.</summary>
    public async Task<long> ProduceToAsync(int partition, byte[]? key, byte[]? value, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _sent);
        var result = await _producer.ProduceAsync(new TopicPartition(Topics.Signals, partition), new Message<byte[], byte[]> { Key = key!, Value = value! }, cancellationToken);
        Interlocked.Increment(ref _delivered[partition]);
        Interlocked.Increment(ref _completed);
        return result.Offset.Value;
    }

    void Produce(string topic, int? partition, byte[] key, byte[] value)
    {
        var message = new Message<byte[], byte[]> { Key = key, Value = value };
        while (true)
        {
            try
            {
                Action<DeliveryReport<byte[], byte[]>> report = Completed;
                if (partition is { } p)
                {
                    _producer.Produce(new TopicPartition(topic, p), message, report);
                }
                else
                {
                    _producer.Produce(topic, message, report);
                }
                Interlocked.Increment(ref _sent);
                return;
            }
            catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                _producer.Poll(TimeSpan.FromMilliseconds(20));
            }
        }
    }

    void Completed(DeliveryReport<byte[], byte[]> report)
    {
        if (report.Error.IsError)
        {
            Interlocked.Increment(ref _failed);
            Interlocked.CompareExchange(ref _firstError, $"{report.Error.Code}: {report.Error.Reason}", null);
        }
        else
        {
            Interlocked.Increment(ref _delivered[report.Partition.Value]);
        }
        Interlocked.Increment(ref _completed);
    }

    async Task FlushAsync(CancellationToken cancellationToken)
    {
        while (Interlocked.Read(ref _completed) < Sent)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Run(() => _producer.Flush(TimeSpan.FromMilliseconds(500)), cancellationToken);
        }
    }

    // While a shard's PostgreSQL is down its stored offsets cannot be read, and Ingest cannot store any there: its
    // partitions' unstored messages grow until they reach the bound, and then the producer waits it out.
    async Task WaitForRoomAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await AheadAsync(cancellationToken) + Step <= _maxUnstored)
            {
                return;
            }
            await Task.Delay(25, cancellationToken);
        }
    }

    async Task<long> AheadAsync(CancellationToken cancellationToken)
    {
        for (var shard = 0; shard < _store.Count; shard++)
        {
            try
            {
                foreach (var (partition, offset) in await PipelineProbe.StoredOffsetsAsync(_store.DataSource(shard), cancellationToken))
                {
                    if (partition < _stored.Length && _store.ShardOf(partition) == shard)
                    {
                        _stored[partition] = offset;
                    }
                }
            }
            catch (Exception e) when (TransientFaults.IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
            }
        }
        long ahead = 0;
        for (var partition = 0; partition < _delivered.Length; partition++)
        {
            ahead = Math.Max(ahead, Interlocked.Read(ref _delivered[partition]) - _stored[partition]);
        }
        return ahead + Sent - Interlocked.Read(ref _completed);
    }

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(5));
        _producer.Dispose();
    }
}
