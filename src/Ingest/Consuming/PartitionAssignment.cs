using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streaming.Hosting.Resilience;
using Streaming.Ingest.Appending;

namespace Streaming.Ingest.Consuming;

/// <summary>
/// The partitions one consumer owns and where it reads each from: always the next offset stored in PostgreSQL, which
/// moves only in the transaction that stores what was read. A newly assigned partition starts at the offset loaded in
/// the assignment handler; one read again (fenced, or its batch abandoned) is moved there by <see cref="PositionAsync"/>,
/// called from the consume loop between batches.
/// </summary>
/// <remarks>
/// Ingest uses the cooperative-sticky assignor: a rebalance revokes only the partitions that move, and the assigned
/// handler must hand librdkafka exactly the partitions it got, with their positions. A partition whose stored
/// offset another consumer moved (<see cref="Fenced"/>) is paused and dropped alone; it is positioned again from the
/// store after <see cref="IngestOptions.FencedPause"/>, when the group has had time to take it away if it is no longer
/// this consumer's. librdkafka keeps a partition's pause across its revocation and a later assignment, so every
/// partition assigned to be read is resumed (by <see cref="PositionAsync"/>, once the assignment is applied). A broker
/// that reports an offset out of range (<c>auto.offset.reset=error</c>) stops that partition's fetcher;
/// <see cref="PositionAsync"/> then compares the stored offset with the log's watermarks: below the start,
/// retention deleted unread messages, and the loss is recorded by moving the stored offset to the start with
/// compare-and-set, so it is counted once however often and by however many consumers it is seen; otherwise it resumes
/// at the stored offset.
/// <para>
/// With several shards each partition's offset lives on its shard (<see cref="SignalShards"/>). A shard that does not
/// answer (a write of its part of a batch, or loading its offsets, failed transiently) stalls its partitions alone
/// (<see cref="Stall"/>): they are paused, nothing read from them is kept, and once the shard's backoff has passed
/// their offsets are loaded from it again; when it answers they are read again from there, when not they wait another
/// backoff. The other shards' partitions go on meanwhile.
/// </para>
/// </remarks>
sealed partial class PartitionAssignment(
    SignalShards store,
    IReadOnlyList<Outage> shardOutages,
    string consumerGroup,
    string topic,
    string member,
    TimeSpan fencedPause,
    IngestCounters counters,
    ILogger logger)
{
    enum State
    {
        /// <summary>Its fetcher not at the stored offset (read again): what it reads is dropped until it is moved there.</summary>
        Unpositioned,

        /// <summary>Read from its stored offset on.</summary>
        Reading,

        /// <summary>The broker said the offset read from is not in the log; its fetcher stopped.</summary>
        OutOfRange,

        /// <summary>Another consumer moved its stored offset: paused, and positioned again later if still assigned.</summary>
        Fenced,

        /// <summary>Its shard did not answer: paused, its offset loaded from the shard again after the shard's backoff.</summary>
        Stalled,
    }

    // A seek that librdkafka refuses (the partition's fetcher between states) is tried again this soon.
    static readonly TimeSpan SeekRetry = TimeSpan.FromMilliseconds(50);

    static readonly TimeSpan WatermarkTimeout = TimeSpan.FromSeconds(10);

    // Where a stalled partition is assigned until its shard answers: absolute, so librdkafka looks nothing up for it.
    static readonly Offset StalledPlaceHolder = new(0);

    // A stalled shard is tried again at least this often, so its partitions resume soon after it is back.
    static readonly TimeSpan MaxStallRetry = TimeSpan.FromSeconds(2);

    readonly Dictionary<int, State> _states = [];
    readonly Dictionary<int, long?> _stored = [];
    readonly Dictionary<int, DateTime> _notBefore = [];
    readonly HashSet<int> _reload = [];
    // Assigned to be read: resumed, since a pause of an earlier assignment (fenced, stalled) outlives its revocation.
    readonly HashSet<int> _resume = [];
    readonly Dictionary<int, TimeSpan> _unreachable = [];

    /// <summary>True while some owned partition is due to be moved to where the store says it should be read from, or resumed.</summary>
    public bool NeedsPositioning => _resume.Count > 0 || _states.Any(s => s.Value != State.Reading && Due(s.Key));

    /// <summary>Whether messages read from <paramref name="partition"/> may be written now.</summary>
    public bool Owns(int partition) => _states.TryGetValue(partition, out var state) && state is State.Reading or State.OutOfRange;

    /// <summary>The next offset stored for an owned partition; null when none is stored yet.</summary>
    public long? StoredOffset(int partition) => _stored[partition];

    /// <summary>Records what the transaction that just committed stored.</summary>
    public void Stored(int partition, long nextOffset)
    {
        if (_states.ContainsKey(partition))
        {
            _stored[partition] = nextOffset;
        }
    }

    /// <summary>
    /// The group's assignment handler (cooperative: only the partitions added): records them, each to be read from the
    /// offset stored for it in <paramref name="stored"/> (loaded by the caller in the handler: librdkafka takes the
    /// positions from the handler's answer, and a placeholder moved later races the fetcher's own start).
    /// </summary>
    /// <remarks>
    /// A partition whose shard did not answer <see cref="LoadAssignedAsync"/> is stalled: paused before it is assigned,
    /// assigned at an absolute place holder, and read from its stored offset once its shard answers. Never at a logical
    /// place holder (the log's end): librdkafka looks that up, and a lookup still in flight when the partition is moved
    /// to its stored offset answers late, is found outdated, and sends the fetcher back to look the end up again, after
    /// 500 ms, from where it reads on: everything between is skipped.
    /// </remarks>
    public IEnumerable<TopicPartitionOffset> OnAssigned(
        IConsumer<byte[]?, byte[]?> consumer, List<TopicPartition> partitions, IReadOnlyDictionary<int, long> stored)
    {
        var positions = new List<TopicPartitionOffset>();
        var stalled = new List<int>();
        foreach (var partition in partitions)
        {
            var p = partition.Partition.Value;
            _notBefore.Remove(p);
            _reload.Remove(p);
            _resume.Remove(p);
            if (_unreachable.TryGetValue(store.ShardOf(p), out var retryIn))
            {
                _states[p] = State.Stalled;
                _stored[p] = null;
                _reload.Add(p);
                _notBefore[p] = DateTime.UtcNow + retryIn;
                stalled.Add(p);
                positions.Add(new TopicPartitionOffset(partition, StalledPlaceHolder));
                continue;
            }
            _states[p] = State.Reading;
            _resume.Add(p);
            _stored[p] = stored.TryGetValue(p, out var next) ? next : null;
            positions.Add(new TopicPartitionOffset(partition, _stored[p] is { } offset ? new Offset(offset) : Offset.Beginning));
        }
        _unreachable.Clear();
        if (stalled.Count > 0)
        {
            // Paused before its fetcher starts, it fetches nothing at the place holder. On a consumer's first assignment
            // librdkafka knows none of its partitions yet and refuses to pause them: asking for their positions makes it
            // create them.
            var paused = stalled.Select(p => new TopicPartition(topic, p)).ToList();
            foreach (var partition in paused)
            {
                consumer.Position(partition);
            }
            consumer.Pause(paused);
            LogStalledAtAssignment(logger, topic, string.Join(",", stalled), member);
        }
        if (positions.Count > 0)
        {
            LogAssigned(logger, Names(partitions), topic, member);
        }
        if (positions.Where(p => _states[p.Partition.Value] != State.Stalled).ToList() is { Count: > 0 } reading)
        {
            LogPositioned(logger, topic, string.Join(", ", reading.Select(p => $"{p.Partition.Value}@{p.Offset}")));
        }
        return positions;
    }

    /// <summary>
    /// With several shards, the assignment handler's load of the offsets of <paramref name="assigned"/>: one attempt per
    /// shard, whose failure (transient) stalls that shard's partitions in <see cref="OnAssigned"/> instead of holding up
    /// every partition until the shard is back.
    /// </summary>
    public async Task<IReadOnlyDictionary<int, long>> LoadAssignedAsync(IEnumerable<int> assigned, CancellationToken cancellationToken)
    {
        var stored = new Dictionary<int, long>();
        foreach (var shard in assigned.Select(store.ShardOf).Distinct().Order())
        {
            try
            {
                foreach (var (partition, next) in await store.LoadKafkaOffsetsAsync(shard, consumerGroup, topic, cancellationToken))
                {
                    stored[partition] = next;
                }
                shardOutages[shard].Succeeded();
            }
            catch (Exception e) when (TransientFaults.IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                _unreachable[shard] = shardOutages[shard].Failed(e, MaxStallRetry);
            }
        }
        return stored;
    }

    /// <summary>
    /// Shard <paramref name="shard"/> did not answer (<paramref name="cause"/>, transient): every partition of it this
    /// consumer owns is paused, and its offset loaded from the shard again after the shard's backoff. Only with several shards.
    /// </summary>
    public void Stall(IConsumer<byte[]?, byte[]?> consumer, int shard, Exception cause)
    {
        var retryAt = DateTime.UtcNow + shardOutages[shard].Failed(cause, MaxStallRetry);
        var paused = new List<int>();
        foreach (var partition in _states.Keys.Where(p => store.ShardOf(p) == shard).ToList())
        {
            if (_states[partition] is not (State.Stalled or State.Fenced))
            {
                paused.Add(partition);
            }
            _states[partition] = State.Stalled;
            _resume.Remove(partition);
            _reload.Add(partition);
            _notBefore[partition] = retryAt;
        }
        if (paused.Count > 0)
        {
            consumer.Pause([.. paused.Select(p => new TopicPartition(topic, p))]);
            LogStalled(logger, topic, string.Join(",", paused.Order()), member, shard);
        }
    }

    /// <summary>The group's revocation handler (cooperative: only the partitions that move), after the drain.</summary>
    public void OnRevoked(IEnumerable<TopicPartition> partitions, bool lost)
    {
        var gone = partitions.ToList();
        foreach (var partition in gone)
        {
            _states.Remove(partition.Partition.Value);
            _stored.Remove(partition.Partition.Value);
            _notBefore.Remove(partition.Partition.Value);
            _reload.Remove(partition.Partition.Value);
            _resume.Remove(partition.Partition.Value);
        }
        // A stalled shard none of whose partitions stays with this consumer is no longer this consumer's to wait for.
        for (var shard = 0; store.Sharded && shard < shardOutages.Count; shard++)
        {
            if (shardOutages[shard].InProgress && !_states.Any(s => s.Value == State.Stalled && store.ShardOf(s.Key) == shard))
            {
                shardOutages[shard].Succeeded();
            }
        }
        if (lost)
        {
            LogLost(logger, Names(gone), topic, member);
        }
        else
        {
            LogRevoked(logger, Names(gone), topic, member);
        }
    }

    /// <summary>The partitions read now, each with the next offset stored for it (null: none yet).</summary>
    public IEnumerable<(int Partition, long? Stored)> Reading =>
        _states.Where(s => s.Value == State.Reading).Select(s => (s.Key, _stored[s.Key]));

    /// <summary>
    /// A partition read has delivered nothing while its log holds messages past its stored offset
    /// (<see cref="SilentPartitionWatch"/>): its fetcher is started again at the stored offset, whatever it was doing
    /// (paused by librdkafka, stopped, or reading elsewhere), unless it has moved on meanwhile. Call it with no append in
    /// flight; <paramref name="fetch"/> is librdkafka's last word on the partition's fetcher, for the log.
    /// </summary>
    public void Restart(IConsumer<byte[]?, byte[]?> consumer, SilentPartition silent, PartitionFetch? fetch)
    {
        if (!_states.TryGetValue(silent.Partition, out var state) || state != State.Reading || _stored[silent.Partition] != silent.Stored)
        {
            return;
        }
        var position = new TopicPartitionOffset(topic, silent.Partition, silent.Stored is { } next ? new Offset(next) : Offset.Beginning);
        consumer.IncrementalUnassign([position.TopicPartition]);
        consumer.IncrementalAssign([position]);
        consumer.Resume([position.TopicPartition]);
        counters.AddRestarted();
        LogRestarted(logger, topic, silent.Partition, member, position.Offset.ToString(), silent.LogEnd, silent.Quiet.TotalSeconds,
            fetch?.ToString() ?? "none yet");
    }

    /// <summary>The broker reported the offset being read from <paramref name="partition"/> out of range.</summary>
    public void OffsetOutOfRange(TopicPartition? partition)
    {
        if (partition is not null && _states.ContainsKey(partition.Partition.Value))
        {
            _states[partition.Partition.Value] = State.OutOfRange;
        }
    }

    /// <summary>
    /// Another consumer moved the stored offset of <paramref name="partition"/>: it stops being read and written now,
    /// and is read again from the store after <see cref="IngestOptions.FencedPause"/> if the group still gives it to this consumer.
    /// </summary>
    public void Fenced(IConsumer<byte[]?, byte[]?> consumer, int partition)
    {
        if (!_states.ContainsKey(partition))
        {
            return;
        }
        _states[partition] = State.Fenced;
        _notBefore[partition] = DateTime.UtcNow + fencedPause;
        _reload.Add(partition);
        _resume.Remove(partition);
        consumer.Pause([new TopicPartition(topic, partition)]);
        LogDropped(logger, topic, partition, member, fencedPause.TotalSeconds);
    }

    /// <summary>
    /// What was read from <paramref name="partitions"/> was not stored and is read again from the stored offsets (an
    /// abandoned batch of partitions this consumer keeps).
    /// </summary>
    public void ReadAgain(IEnumerable<int> partitions)
    {
        foreach (var partition in partitions.Where(_states.ContainsKey))
        {
            _states[partition] = State.Unpositioned;
            _reload.Add(partition);
        }
    }

    /// <summary>
    /// Resumes the partitions assigned to be read, loads the stored offsets of the partitions that need them, settles
    /// partitions reported out of range, and moves every partition due to its stored offset. Transient database and
    /// broker errors propagate: call it again.
    /// </summary>
    /// <remarks>
    /// With several shards, a shard that does not answer stalls its partitions (<see cref="Stall"/>) and the others are
    /// positioned all the same; with one, its failure propagates.
    /// </remarks>
    public async Task PositionAsync(IConsumer<byte[]?, byte[]?> consumer, CancellationToken cancellationToken)
    {
        if (_resume.Count > 0)
        {
            consumer.Resume([.. _resume.Select(p => new TopicPartition(topic, p))]);
            _resume.Clear();
        }
        var due = _states.Where(s => s.Value != State.Reading && Due(s.Key)).Select(s => s.Key).Order().ToList();
        foreach (var shard in due.Where(_reload.Contains).GroupBy(store.ShardOf))
        {
            IReadOnlyDictionary<int, long> stored;
            try
            {
                stored = await store.LoadKafkaOffsetsAsync(shard.Key, consumerGroup, topic, cancellationToken);
            }
            catch (Exception e) when (store.Sharded && TransientFaults.IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                Stall(consumer, shard.Key, e);
                continue;
            }
            if (store.Sharded)
            {
                shardOutages[shard.Key].Succeeded();
            }
            foreach (var partition in shard.Where(_reload.Remove))
            {
                _stored[partition] = stored.TryGetValue(partition, out var next) ? next : null;
            }
        }
        var positioned = new List<TopicPartitionOffset>();
        foreach (var partition in due.Where(p => !_reload.Contains(p)))
        {
            var state = _states[partition];
            if (state == State.OutOfRange)
            {
                bool settled;
                try
                {
                    settled = await SettleOutOfRangeAsync(consumer, partition, cancellationToken);
                }
                catch (Exception e) when (store.Sharded && e is not KafkaException && TransientFaults.IsTransient(e) && !cancellationToken.IsCancellationRequested)
                {
                    Stall(consumer, store.ShardOf(partition), e);
                    continue;
                }
                if (!settled)
                {
                    Fenced(consumer, partition);
                    continue;
                }
            }
            var position = new TopicPartitionOffset(topic, partition, _stored[partition] is { } next ? new Offset(next) : Offset.Beginning);
            if (state is State.OutOfRange or State.Stalled)
            {
                // Its fetcher stopped at the error, or may still be starting at a stalled assignment's place holder: only
                // assigning it again starts it where the store says, whatever it was doing.
                consumer.IncrementalUnassign([position.TopicPartition]);
                consumer.IncrementalAssign([position]);
                if (state == State.Stalled)
                {
                    consumer.Resume([position.TopicPartition]);
                }
            }
            else if (!TrySeek(consumer, position))
            {
                _notBefore[partition] = DateTime.UtcNow + SeekRetry;
                continue;
            }
            if (state == State.Fenced)
            {
                consumer.Resume([position.TopicPartition]);
            }
            _states[partition] = State.Reading;
            _notBefore.Remove(partition);
            positioned.Add(position);
        }
        if (positioned.Count > 0)
        {
            LogPositioned(logger, topic, string.Join(", ", positioned.Select(p => $"{p.Partition.Value}@{p.Offset}")));
        }
    }

    /// <summary>Each owned partition's state and the next offset stored for it (none: nothing stored yet).</summary>
    public override string ToString() => _states.Count == 0
        ? "none"
        : string.Join(", ", _states.OrderBy(s => s.Key).Select(s => $"{s.Key} {s.Value} at {(_stored.GetValueOrDefault(s.Key) is { } next ? next : "none")}"));

    bool Due(int partition) => !_notBefore.TryGetValue(partition, out var at) || at <= DateTime.UtcNow;

    static bool TrySeek(IConsumer<byte[]?, byte[]?> consumer, TopicPartitionOffset position)
    {
        try
        {
            consumer.Seek(position);
            return true;
        }
        catch (KafkaException e) when (e.Error.Code is ErrorCode.Local_State or ErrorCode.Local_PrevInProgress)
        {
            return false;
        }
    }

    static string Names(IEnumerable<TopicPartition> partitions) => string.Join(",", partitions.Select(p => p.Partition.Value).Order());

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
            await store.Log(store.ShardOf(partition)).AppendSignalsAsync([], [new KafkaOffsetAdvance(consumerGroup, topic, partition, stored, low)], cancellationToken);
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

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Assigned partitions {Partitions} of {Topic} to {Member}; positioning them at their stored offsets")]
    static partial void LogAssigned(ILogger logger, string partitions, string topic, string member);

    [LoggerMessage(Level = LogLevel.Information, Message = "Revoked partitions {Partitions} of {Topic} from {Member}")]
    static partial void LogRevoked(ILogger logger, string partitions, string topic, string member);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost partitions {Partitions} of {Topic} of {Member}: the group gave them to others")]
    static partial void LogLost(ILogger logger, string partitions, string topic, string member);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Fenced on partition {Partition} of {Topic}: another consumer stored past {Member}; stopped reading it, reading it again from the store in {Seconds} s if still assigned")]
    static partial void LogDropped(ILogger logger, string topic, int partition, string member, double seconds);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Paused partitions {Partitions} of {Topic} of {Member}: their shard {Shard} does not answer; they are read again from its stored offsets once it does, the other shards' partitions go on")]
    static partial void LogStalled(ILogger logger, string topic, string partitions, string member, int shard);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Assigned partitions {Partitions} of {Topic} to {Member} while their shard does not answer: paused until it does")]
    static partial void LogStalledAtAssignment(ILogger logger, string topic, string partitions, string member);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Partition {Partition} of {Topic} of {Member} delivered nothing for {Seconds} s though the log ends at {LogEnd}, past its stored offset {Stored}: started its fetcher again there (librdkafka's last statistics of it: {Fetch})")]
    static partial void LogRestarted(ILogger logger, string topic, int partition, string member, string stored, long logEnd, double seconds, string fetch);

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
