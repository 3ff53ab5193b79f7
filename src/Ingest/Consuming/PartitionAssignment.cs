using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streaming.EventStore;
using Streaming.Ingest.Appending;

namespace Streaming.Ingest.Consuming;

/// <summary>
/// The partitions one consumer owns and where it reads each from: always the next offset stored in PostgreSQL, which
/// moves only in the transaction that stores what was read. The group's rebalance handlers only record what changed
/// (they run inside <c>Consume</c>, on librdkafka's schedule, and must not wait on the database); nothing of a newly
/// assigned partition is fetched until <see cref="PositionAsync"/>, called from the consume loop between batches,
/// has loaded its stored offset and assigned it there.
/// </summary>
/// <remarks>
/// Ingest uses an eager assignor: a rebalance revokes everything, then assigns, so the handler can hand librdkafka an
/// empty assignment and <see cref="PositionAsync"/> assigns the whole set later. A broker that reports an offset out
/// of range (<c>auto.offset.reset=error</c>) stops that partition's fetcher; <see cref="PositionAsync"/> then compares
/// the stored offset with the log's watermarks: below the start, retention deleted unread messages, and the loss is
/// recorded by moving the stored offset to the start with compare-and-set, so it is counted once however often and
/// by however many consumers it is seen; otherwise it resumes at the stored offset.
/// </remarks>
sealed partial class PartitionAssignment(
    SignalLog store, string consumerGroup, string topic, IngestCounters counters, ILogger logger)
{
    enum State
    {
        /// <summary>Assigned by the group, not yet given to librdkafka: nothing is fetched.</summary>
        Unpositioned,

        /// <summary>Read from its stored offset on.</summary>
        Reading,

        /// <summary>The broker said the offset read from is not in the log; its fetcher stopped.</summary>
        OutOfRange,
    }

    static readonly TimeSpan WatermarkTimeout = TimeSpan.FromSeconds(10);

    readonly Dictionary<int, State> _states = [];
    readonly Dictionary<int, long?> _stored = [];
    bool _reload;

    /// <summary>True while some owned partition is not being read from where the store says it should be.</summary>
    public bool NeedsPositioning => _states.ContainsValue(State.Unpositioned) || _states.ContainsValue(State.OutOfRange);

    /// <summary>Whether messages read from <paramref name="partition"/> may be written now.</summary>
    public bool Owns(int partition) => _states.TryGetValue(partition, out var state) && state != State.Unpositioned;

    /// <summary>The next offset stored for an owned partition; null when none is stored yet.</summary>
    public long? StoredOffset(int partition) => _stored[partition];

    /// <summary>Records what the transaction that just committed stored.</summary>
    public void Stored(int partition, long nextOffset) => _stored[partition] = nextOffset;

    /// <summary>The group's assignment handler: records the partitions and fetches none of them yet.</summary>
    public IEnumerable<TopicPartitionOffset> OnAssigned(List<TopicPartition> partitions)
    {
        foreach (var partition in partitions)
        {
            _states[partition.Partition.Value] = State.Unpositioned;
        }
        _reload = true;
        LogAssigned(logger, topic, string.Join(",", partitions.Select(p => p.Partition.Value)));
        return [];
    }

    /// <summary>The group's revocation (and loss) handler.</summary>
    public void OnRevoked(IEnumerable<TopicPartition> partitions)
    {
        foreach (var partition in partitions)
        {
            _states.Remove(partition.Partition.Value);
            _stored.Remove(partition.Partition.Value);
        }
    }

    /// <summary>The broker reported the offset being read from <paramref name="partition"/> out of range.</summary>
    public void OffsetOutOfRange(TopicPartition? partition)
    {
        if (partition is not null && _states.ContainsKey(partition.Partition.Value))
        {
            _states[partition.Partition.Value] = State.OutOfRange;
        }
    }

    /// <summary>Another consumer moved a stored offset: everything this consumer holds is read again from the store.</summary>
    public void Fenced()
    {
        foreach (var partition in _states.Keys.ToList())
        {
            _states[partition] = State.Unpositioned;
        }
        _reload = true;
    }

    /// <summary>
    /// Loads the stored offsets if the assignment changed, settles partitions reported out of range, and assigns every
    /// owned partition at its stored offset. Transient database and broker errors propagate: call it again.
    /// </summary>
    public async Task PositionAsync(IConsumer<byte[]?, byte[]?> consumer, CancellationToken cancellationToken)
    {
        if (_reload)
        {
            var stored = await store.LoadKafkaOffsetsAsync(consumerGroup, topic, cancellationToken);
            foreach (var partition in _states.Keys)
            {
                _stored[partition] = stored.TryGetValue(partition, out var next) ? next : null;
            }
            _reload = false;
        }
        foreach (var partition in _states.Where(s => s.Value == State.OutOfRange).Select(s => s.Key).ToList())
        {
            if (!await SettleOutOfRangeAsync(consumer, partition, cancellationToken))
            {
                Fenced();
                return;
            }
        }
        var positions = _states.Keys.Order()
            .Select(p => new TopicPartitionOffset(topic, p, _stored[p] is { } next ? new Offset(next) : Offset.Beginning))
            .ToList();
        consumer.Assign(positions);
        foreach (var partition in _states.Keys.ToList())
        {
            _states[partition] = State.Reading;
        }
        if (positions.Count > 0)
        {
            LogPositioned(logger, topic, string.Join(", ", positions.Select(p => $"{p.Partition.Value}@{p.Offset}")));
        }
    }

    // False when another consumer moved the stored offset meanwhile.
    async Task<bool> SettleOutOfRangeAsync(IConsumer<byte[]?, byte[]?> consumer, int partition, CancellationToken cancellationToken)
    {
        if (_stored[partition] is not { } stored)
        {
            return true;
        }
        var marks = consumer.QueryWatermarkOffsets(new TopicPartition(topic, partition), WatermarkTimeout);
        var (low, high) = (marks.Low.Value, marks.High.Value);
        if (stored >= low && stored <= high)
        {
            LogStillInRange(logger, topic, partition, stored, low, high);
            return true;
        }
        try
        {
            await store.AppendSignalsAsync([], [new KafkaOffsetAdvance(consumerGroup, topic, partition, stored, low)], cancellationToken);
        }
        catch (OffsetFencedException)
        {
            return false;
        }
        _stored[partition] = low;
        if (stored < low)
        {
            counters.AddLostToRetention(low - stored);
            LogDataLoss(logger, low - stored, topic, partition, stored, low - 1);
        }
        else
        {
            LogLogRecreated(logger, topic, partition, high, stored);
        }
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Assigned partitions {Partitions} of {Topic}; positioning them at their stored offsets")]
    static partial void LogAssigned(ILogger logger, string topic, string partitions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reading {Topic} from partition@offset {Positions}")]
    static partial void LogPositioned(ILogger logger, string topic, string positions);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "The broker said offset {Stored} of {Topic}/{Partition} is out of range, but the log holds {Low}..{High}: resuming at the stored offset")]
    static partial void LogStillInRange(ILogger logger, string topic, int partition, long stored, long low, long high);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "DATA LOSS: retention deleted {Lost} unread messages of {Topic}/{Partition} (offsets {From}..{To}) before Ingest stored them")]
    static partial void LogDataLoss(ILogger logger, long lost, string topic, int partition, long from, long to);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "The log of {Topic}/{Partition} ends at {High} but the store has read up to {Stored}: the topic was recreated; reading it from its start")]
    static partial void LogLogRecreated(ILogger logger, string topic, int partition, long high, long stored);
}
