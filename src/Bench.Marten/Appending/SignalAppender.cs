using Confluent.Kafka;
using Marten;
using Streaming.Contracts.History;
using Streaming.Contracts.Signals;

namespace Streaming.Bench.Marten.Appending;

/// <summary>
/// One writer: a member of the consumer group that appends each batch of signals it consumes to the job streams in
/// one Marten session, with each stream's expected version and the partitions' offsets documents (compare-and-set on
/// their numeric revision), committed together. Offsets live only in Marten: a partition's first batch after it is
/// assigned reads its document and skips what an earlier owner already stored.
/// </summary>
public sealed class SignalAppender(IDocumentStore store, PeerSettings settings)
{
    static readonly TimeSpan MaxBatchWait = TimeSpan.FromMilliseconds(50);

    readonly Dictionary<int, KafkaOffsets> _offsets = [];

    public long Appended { get; private set; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = settings.BootstrapServers,
            GroupId = settings.ConsumerGroup,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            SessionTimeoutMs = 6_000,
        })
            .SetPartitionsRevokedHandler((_, revoked) => Forget(revoked.Select(p => p.Partition.Value)))
            .SetPartitionsLostHandler((_, lost) => Forget(lost.Select(p => p.Partition.Value)))
            .Build();
        consumer.Subscribe(settings.Topic);
        var batch = new List<ConsumeResult<byte[], byte[]>>(settings.BatchSize);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                batch.Clear();
                if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is not { } first)
                {
                    continue;
                }
                batch.Add(first);
                var deadline = DateTime.UtcNow + MaxBatchWait;
                // The clock read once per wait: a timeout 1 to 2 ms below zero reaches librdkafka as -1, no time limit.
                while (batch.Count < settings.BatchSize && deadline - DateTime.UtcNow is { Ticks: > 0 } left
                       && consumer.Consume(left) is { } next)
                {
                    batch.Add(next);
                }
                await AppendAsync(consumer, batch, cancellationToken);
            }
        }
        finally
        {
            consumer.Close();
        }
    }

    void Forget(IEnumerable<int> partitions)
    {
        foreach (var partition in partitions)
        {
            _offsets.Remove(partition);
        }
    }

    async Task AppendAsync(IConsumer<byte[], byte[]> consumer, List<ConsumeResult<byte[], byte[]>> batch, CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        var streams = new Dictionary<string, List<SignalRecorded>>(StringComparer.Ordinal);
        var nextOffsets = new Dictionary<int, long>();
        foreach (var message in batch)
        {
            var partition = message.Partition.Value;
            var offsets = await OffsetsAsync(session, partition, cancellationToken);
            if (message.Offset.Value < offsets.NextOffset)
            {
                // An earlier owner of the partition stored this message already.
                consumer.Seek(new TopicPartitionOffset(message.TopicPartition, offsets.NextOffset));
                continue;
            }
            var signal = JobSignalReader.Read(message.Message.Key, message.Message.Value, message.Message.Key is not null).Signal
                ?? throw new InvalidDataException($"message {message.TopicPartitionOffset} is not a valid signal");
            if (!streams.TryGetValue(signal.JobId, out var events))
            {
                streams[signal.JobId] = events = [];
            }
            events.Add(new SignalRecorded(signal.JobId, signal.Seq, signal.EmittedAt, signal.Phase, signal.Metrics, signal.Labels, signal.CorrelationId));
            nextOffsets[partition] = message.Offset.Value + 1;
        }
        foreach (var (jobId, events) in streams)
        {
            // A job's seq numbers its signals from 1 with no gaps in the workload, so they are its stream's versions.
            if (events[0].Seq == 1)
            {
                session.Events.StartStream(jobId, events);
            }
            else
            {
                session.Events.Append(jobId, events[^1].Seq, events);
            }
        }
        var revisions = new Dictionary<int, int>();
        foreach (var (partition, next) in nextOffsets)
        {
            var offsets = _offsets[partition];
            offsets.NextOffset = next;
            revisions[partition] = offsets.Version + 1;
            if (offsets.Version == 0)
            {
                session.Insert(offsets);
            }
            else
            {
                session.UpdateRevision(offsets, offsets.Version + 1);
            }
        }
        await session.SaveChangesAsync(cancellationToken);
        foreach (var (partition, revision) in revisions)
        {
            _offsets[partition].Version = revision;
        }
        Appended += streams.Values.Sum(e => e.Count);
    }

    async Task<KafkaOffsets> OffsetsAsync(IDocumentSession session, int partition, CancellationToken cancellationToken)
    {
        if (!_offsets.TryGetValue(partition, out var offsets))
        {
            var id = KafkaOffsets.IdOf(settings.Topic, partition);
            _offsets[partition] = offsets = await session.LoadAsync<KafkaOffsets>(id, cancellationToken) ?? new KafkaOffsets { Id = id };
        }
        return offsets;
    }
}
