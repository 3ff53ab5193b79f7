using Confluent.Kafka;
using Streaming.Contracts.Signals;
using Streaming.Ingest.Appending;
using Streaming.Ingest.DeadLetters;

namespace Streaming.Ingest.Consuming;

/// <summary>
/// Consumed messages read against the wire contract: the signals to append, the messages the contract rejects, and
/// the stored offsets the batch moves (compare-and-set from where this consumer last stored them).
/// </summary>
sealed class SignalBatch
{
    readonly List<ConsumeResult<byte[]?, byte[]?>> _sources = [];
    readonly List<DeadLetter> _invalid = [];
    readonly IReadOnlyList<ReadMessage> _messages;

    SignalBatch(IReadOnlyList<ReadMessage> messages, IReadOnlyList<KafkaOffsetAdvance> offsets)
    {
        _messages = messages;
        Offsets = offsets;
    }

    public List<SignalToAppend> Signals { get; } = [];

    public IReadOnlyList<KafkaOffsetAdvance> Offsets { get; }

    public int Messages => Signals.Count + _invalid.Count;

    /// <summary>
    /// Reads one consumed message against the wire contract, and for a sharded store checks that its job lives on its
    /// partition's shard; done as it arrives, while an earlier batch commits.
    /// </summary>
    public static ReadMessage Read(ConsumeResult<byte[]?, byte[]?> message, TimeSpan maxClockSkew, SignalShards shards)
    {
        var read = JobSignalReader.Read(
            message.Message.Key, message.Message.Value, message.Message.Key is not null, new EventTimeLimit(Timestamp(message), maxClockSkew));
        if (read.Signal is null)
        {
            return new ReadMessage(message, null, read.RejectionReason!);
        }
        return shards.OtherShard(read.Signal.JobId, message.Partition.Value) is { } otherShard
            ? new ReadMessage(message, null, otherShard)
            : new ReadMessage(message, SignalToAppend.Of(read, message.Message.Value), null);
    }

    /// <param name="messages">Messages of owned partitions only, in the order consumed.</param>
    /// <param name="storedOffset">The next offset stored for a partition when the batch is written (null: none yet).</param>
    public static SignalBatch Of(IReadOnlyList<ReadMessage> messages, Func<int, long?> storedOffset, string consumerGroup)
    {
        var nextOffsets = new Dictionary<TopicPartition, long>();
        foreach (var message in messages)
        {
            nextOffsets[message.Source.TopicPartition] = message.Source.Offset.Value + 1;
        }
        var batch = new SignalBatch(messages, [.. nextOffsets.Select(p =>
            new KafkaOffsetAdvance(consumerGroup, p.Key.Topic, p.Key.Partition.Value, storedOffset(p.Key.Partition.Value), p.Value))]);
        foreach (var message in messages)
        {
            if (message.Signal is { } signal)
            {
                batch.Signals.Add(signal);
                batch._sources.Add(message.Source);
            }
            else
            {
                batch._invalid.Add(new DeadLetter(message.Source, message.RejectionReason!));
            }
        }
        return batch;
    }

    /// <summary>The same batch without the messages of <paramref name="partition"/>, moving the other offsets from where this one does.</summary>
    public SignalBatch Without(int partition)
    {
        var expected = Offsets.ToDictionary(o => o.Partition, o => o.ExpectedNextOffset);
        return Of([.. _messages.Where(m => m.Partition != partition)], p => expected[p], Offsets[0].ConsumerGroup);
    }

    /// <summary>
    /// The batch split by the shard each partition is stored on (<paramref name="shardOf"/>), each part moving its
    /// offsets from where this one does; the batch itself when it is all on one shard.
    /// </summary>
    public IReadOnlyList<(int Shard, SignalBatch Part)> ByShard(Func<int, int> shardOf)
    {
        var shards = Offsets.Select(o => shardOf(o.Partition)).Distinct().Order().ToList();
        if (shards.Count == 1)
        {
            return [(shards[0], this)];
        }
        var expected = Offsets.ToDictionary(o => o.Partition, o => o.ExpectedNextOffset);
        return [.. shards.Select(shard => (shard, Of([.. _messages.Where(m => shardOf(m.Partition) == shard)], p => expected[p], Offsets[0].ConsumerGroup)))];
    }

    /// <summary>The partitions the batch moves the offsets of.</summary>
    public IEnumerable<int> Partitions => Offsets.Select(o => o.Partition);

    /// <summary>Every message of the batch that goes to the dead-letter topic: invalid ones, then stale and conflicting signals.</summary>
    public List<DeadLetter> DeadLetters(SignalBatchResult result)
    {
        var letters = new List<DeadLetter>(_invalid);
        for (var i = 0; i < result.Outcomes.Count; i++)
        {
            var signal = Signals[i];
            switch (result.Outcomes[i])
            {
                case SignalAppendOutcome.Stale:
                    letters.Add(new DeadLetter(_sources[i], DeadLetterReasons.Stale(signal.StreamId, signal.Seq)));
                    break;
                case SignalAppendOutcome.Conflicting:
                    letters.Add(new DeadLetter(_sources[i], DeadLetterReasons.Conflicting(signal.StreamId, signal.Seq)));
                    break;
            }
        }
        return letters;
    }

    // The time the broker records for the message; Ingest's clock for a message without one.
    static DateTimeOffset Timestamp(ConsumeResult<byte[]?, byte[]?> message) =>
        message.Message.Timestamp.Type == TimestampType.NotAvailable ? DateTimeOffset.UtcNow : message.Message.Timestamp.UtcDateTime;
}
