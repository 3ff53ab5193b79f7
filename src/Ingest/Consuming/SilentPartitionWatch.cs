using Confluent.Kafka;

namespace Streaming.Ingest.Consuming;

/// <summary>
/// Notices a partition this consumer reads that librdkafka stopped delivering (left paused by a rebalance, its fetcher
/// stopped or moved elsewhere, or what it handed out never reached a batch): at two checks in a row, at least
/// <see cref="CheckInterval"/> apart, each made with no append in flight, its stored offset had not moved and the log
/// held messages past it. A partition that is read stores what it was given between two such checks, so neither a slow
/// store nor a busy consumer looks silent; the consumer leaves out the partitions of the messages it holds at a check.
/// </summary>
/// <remarks>
/// A consumer that always has something to read (steady traffic on any of its partitions) checks between batches, as
/// one that has nothing to read checks while idle. One far behind is handed its partitions' messages in the order
/// librdkafka fetched them, interleaved, so each partition with messages fetched moves its stored offset between checks.
/// </remarks>
sealed class SilentPartitionWatch(string topic)
{
    // At most this often: one watermark query per partition read.
    static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(5);

    static readonly TimeSpan WatermarkTimeout = TimeSpan.FromSeconds(1);

    Dictionary<int, (long? Stored, DateTime Since)> _behind = [];
    // The log's end each partition was last restarted at: not again until it grows (a log may end in records no
    // consumer is given, such as transaction markers).
    readonly Dictionary<int, long> _restartedAtEnd = [];
    DateTime _nextCheck = DateTime.UtcNow + CheckInterval;
    DateTime? _lastCheck;
    int _unanswered;

    /// <summary>Whether a check is due: <see cref="Check"/> looks at nothing before.</summary>
    public bool Due => DateTime.UtcNow >= _nextCheck;

    /// <summary>
    /// The partitions found silent now, of <paramref name="reading"/>; call it only with no append in flight, and leave out
    /// the partitions of messages read and not yet stored.
    /// </summary>
    public IReadOnlyList<SilentPartition> Check(IConsumer<byte[]?, byte[]?> consumer, IEnumerable<(int Partition, long? Stored)> reading)
    {
        var now = DateTime.UtcNow;
        if (now < _nextCheck)
        {
            return [];
        }
        var behind = new Dictionary<int, (long? Stored, DateTime Since)>();
        var silent = new List<SilentPartition>();
        _lastCheck = now;
        _unanswered = 0;
        foreach (var (partition, stored) in reading)
        {
            WatermarkOffsets marks;
            try
            {
                marks = consumer.QueryWatermarkOffsets(new TopicPartition(topic, partition), WatermarkTimeout);
            }
            catch (KafkaException)
            {
                // The broker does not answer: nothing to tell, and the consumer reports it.
                _unanswered++;
                continue;
            }
            var end = marks.High.Value;
            if (end <= (stored ?? marks.Low.Value) || (_restartedAtEnd.TryGetValue(partition, out var restartedAt) && restartedAt == end))
            {
                continue;
            }
            if (_behind.TryGetValue(partition, out var before) && before.Stored == stored)
            {
                silent.Add(new SilentPartition(partition, stored, end, now - before.Since));
                _restartedAtEnd[partition] = end;
            }
            else
            {
                behind[partition] = (stored, now);
            }
        }
        _behind = behind;
        _nextCheck = DateTime.UtcNow + CheckInterval;
        return silent;
    }

    public override string ToString() => _lastCheck is not { } last
        ? "no silent-partition check yet"
        : $"last silent-partition check {last:HH:mm:ss.fff} ({_unanswered} watermark queries unanswered), behind then: "
            + (_behind.Count == 0 ? "none" : string.Join(", ", _behind.OrderBy(b => b.Key).Select(b => $"{b.Key} at {b.Value.Stored?.ToString() ?? "none"}")));
}
