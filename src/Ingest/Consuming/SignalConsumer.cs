using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streaming.Contracts.Text;
using Streaming.Hosting.Kafka;
using Streaming.Hosting.Resilience;
using Streaming.Ingest.Appending;
using Streaming.Ingest.DeadLetters;

namespace Streaming.Ingest.Consuming;

/// <summary>
/// Reads <c>job-signals</c> in batches and appends each valid signal to its job's stream exactly once. The Kafka offsets
/// live in PostgreSQL, written in the transaction that stores the events and fenced by compare-and-set, so a restart
/// or a rebalance resumes exactly where the durable state ends (<see cref="PartitionAssignment"/>). Every message is
/// either stored or on the dead-letter topic before its offset is stored. <see cref="IngestWorker"/> runs several in
/// one process, each on a thread of its own and a member of the consumer group with partitions (and so jobs) of its own.
/// </summary>
/// <remarks>
/// Pipelined: while one batch's append commits, the thread reads (and decodes) the next; at most one append is in
/// flight, and the next batch leaves as soon as it has committed. A batch closes at once when the consumer has nothing
/// more buffered; only a tiny batch waits <see cref="IngestOptions.MaxBatchWait"/> to fill. Everything about the
/// partitions (<see cref="PartitionAssignment"/>) is touched by this thread alone: an append reports how it ended and
/// the thread applies it, also before a rebalance revokes partitions.
/// <para>
/// With several shards (<see cref="SignalShards"/>) a batch is written as one part per shard, each in a transaction of
/// its own shard, side by side. A part whose shard does not answer is not retried in place: it is dropped, its
/// shard's partitions are paused and read again from that shard's stored offsets once it answers
/// (<see cref="PartitionAssignment.Stall"/>), and the next batch goes on with the other shards' partitions. With one
/// shard a batch is one transaction that waits out an outage, as it always did.
/// </para>
/// <para>
/// Between batches, and while it has nothing to read, the thread looks for a partition librdkafka stopped delivering
/// though its log holds more (<see cref="SilentPartitionWatch"/>) and starts that one's fetcher again at its stored
/// offset; while it has nothing to read it also asks the brokers for metadata every few seconds: none answering is an
/// outage of reading, reported as librdkafka's own AllBrokersDown is.
/// </para>
/// </remarks>
sealed partial class SignalConsumer(
    IOptions<KafkaOptions> kafkaOptions,
    IOptions<IngestOptions> ingestOptions,
    SignalShards shards,
    DeadLetterPublisher deadLetters,
    IngestCounters counters,
    ConsumerStates states,
    StoredSignalOffsets storedOffsets,
    LoopHealth health,
    ILogger<SignalConsumer> logger)
{
    // While reading is out, how often the brokers are asked whether any answers again, and how long the answer may take.
    static readonly TimeSpan BrokerProbeInterval = TimeSpan.FromSeconds(2);
    static readonly TimeSpan BrokerProbeTimeout = TimeSpan.FromSeconds(1);

    // While idle and reading, how often the brokers are asked whether any answers, and how long the answer may take.
    static readonly TimeSpan BrokerCheckInterval = TimeSpan.FromSeconds(5);
    static readonly TimeSpan BrokerCheckTimeout = TimeSpan.FromSeconds(3);

    static readonly TimeSpan IdleWait = TimeSpan.FromMilliseconds(250);

    // How long one Consume waits while an append is in flight, so the thread sees its end soon.
    static readonly TimeSpan WhileWriting = TimeSpan.FromMilliseconds(2);

    // Ingest is the loop retention races: it retries at least every 2 s, so it resumes soon after an outage ends.
    static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(2);

    readonly KafkaOptions _kafka = kafkaOptions.Value;
    readonly IngestOptions _options = ingestOptions.Value;
    readonly SignalBatchWriter _writer = new(shards, deadLetters, ingestOptions.Value.AsynchronousCommit);
    InFlightBatch? _inFlight;
    ConsumerState? _state;
    // What the loop did with what it read, for its state: messages dropped by why, and when it last sent a batch and last idled.
    long _droppedNotOwned, _droppedStored, _droppedAfterSettle;
    (DateTime At, int Messages)? _lastBatch;
    DateTime? _lastIdle;

    bool Writing => _inFlight is { Written.IsCompleted: false };

    /// <summary>Runs on the calling thread, blocking it, until <paramref name="stoppingToken"/> is cancelled.</summary>
    /// <param name="name">The loop's name in <see cref="LoopHealth"/> and the logs.</param>
    /// <param name="instanceId">The consumer's static membership in the group (<c>group.instance.id</c>); null for a dynamic member.</param>
    public void Run(string name, string? instanceId, CancellationToken stoppingToken)
    {
        // Writing (to PostgreSQL and the dead-letter topic) and reading from the brokers fail and recover separately, and
        // so does writing to each shard.
        var writing = Enumerable.Range(0, shards.Count).Select(shard => new Outage(shard == 0 ? name : $"{name} (shard {shard})", health, logger)).ToArray();
        var reading = new Outage(name + " (brokers)", health, logger);
        // With one shard, positioning waits out the store's outage as writing does; with several, a shard that does not
        // answer stalls its partitions inside PositionAsync, and what else fails is this outage of its own.
        var positioning = shards.Sharded ? new Outage(name + " (positioning)", health, logger) : writing[0];
        foreach (var outage in writing.Append(positioning).Distinct())
        {
            outage.Succeeded();
        }
        health.Running(name + " (brokers)");
        var partitions = new PartitionAssignment(
            shards, writing, _options.ConsumerGroup, _kafka.SignalsTopic, instanceId ?? name, _options.FencedPause, counters, logger);
        var config = KafkaClientConfig.Consumer(_kafka, "streaming-ingest", _options.ConsumerGroup);
        // Never jump silently when the stored offset is gone: the consumer reports it and PartitionAssignment counts the loss.
        config.AutoOffsetReset = AutoOffsetReset.Error;
        // A rebalance moves only the partitions that change owner; the others are never revoked and never pause.
        config.PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky;
        config.GroupInstanceId = instanceId;
        config.StatisticsIntervalMs = (int)ConsumerStates.Interval.TotalMilliseconds;
        var silence = new SilentPartitionWatch(_kafka.SignalsTopic);
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config)
            .SetPartitionsAssignedHandler((c, assigned) => partitions.OnAssigned(c, assigned, StoredOffsets(assigned, partitions, writing[0], stoppingToken)))
            .SetPartitionsRevokedHandler((c, revoked) =>
            {
                // What is in flight was read from these partitions under this assignment: it commits or is abandoned first.
                Drain(c, partitions, revoked, lost: false, stoppingToken);
                partitions.OnRevoked(revoked.Select(p => p.TopicPartition), lost: false);
            })
            .SetPartitionsLostHandler((c, lost) =>
            {
                Drain(c, partitions, lost, lost: true, stoppingToken);
                partitions.OnRevoked(lost.Select(p => p.TopicPartition), lost: true);
            })
            .SetErrorHandler((_, error) => OnError(error, reading))
            .SetStatisticsHandler((_, statistics) => states.Update(_state = State(name, statistics, partitions, reading, silence)))
            .Build();
        using var brokers = new DependentAdminClientBuilder(consumer.Handle).Build();
        consumer.Subscribe(_kafka.SignalsTopic);
        LogConsuming(logger, _kafka.SignalsTopic, _options.ConsumerGroup);
        var nextProbe = DateTime.UtcNow;
        var nextCheck = DateTime.UtcNow + BrokerCheckInterval;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (partitions.NeedsPositioning)
                {
                    Settle(consumer, partitions, stoppingToken);
                    if (partitions.NeedsPositioning)
                    {
                        UntilDoneAsync(positioning, _ => partitions.PositionAsync(consumer, stoppingToken), stoppingToken).GetAwaiter().GetResult();
                    }
                    continue;
                }
                var collected = Collect(consumer, partitions, reading, stoppingToken);
                if (collected.Count == 0)
                {
                    if (_inFlight is { Written.IsCompleted: true })
                    {
                        Settle(consumer, partitions, stoppingToken);
                    }
                    else if (_inFlight is null && reading.InProgress && DateTime.UtcNow >= nextProbe)
                    {
                        nextProbe = DateTime.UtcNow + BrokerProbeInterval;
                        if (Unanswered(brokers, BrokerProbeTimeout) is null)
                        {
                            reading.Succeeded();
                        }
                    }
                    else if (_inFlight is null && !reading.InProgress)
                    {
                        _lastIdle = DateTime.UtcNow;
                        if (DateTime.UtcNow >= nextCheck)
                        {
                            if (Unanswered(brokers, BrokerCheckTimeout) is { } failure)
                            {
                                reading.Failed(failure);
                            }
                            nextCheck = DateTime.UtcNow + BrokerCheckInterval;
                        }
                        RestartSilent(consumer, partitions, silence, collected);
                    }
                    continue;
                }
                // At most one append in flight: this batch leaves once the previous one has committed.
                Settle(consumer, partitions, stoppingToken);
                if (stoppingToken.IsCancellationRequested)
                {
                    continue;
                }
                // A consumer that always has something to read never idles: it looks for silent partitions here too.
                RestartSilent(consumer, partitions, silence, collected);
                // What was read from partitions revoked, fenced or abandoned meanwhile is left out: read again from the
                // stored offsets by whoever owns them. The other partitions' messages go on, whatever else moved.
                var owned = collected.Where(m => partitions.Owns(m.Partition)).ToList();
                _droppedAfterSettle += collected.Count - owned.Count;
                if (owned.Count > 0)
                {
                    var batch = SignalBatch.Of(owned, partitions.StoredOffset, _options.ConsumerGroup);
                    var abandon = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    _inFlight = new InFlightBatch(batch, WriteAsync(batch, writing[0], abandon.Token), abandon, DateTime.UtcNow);
                    _lastBatch = (_inFlight.Since, batch.Messages);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            Settle(consumer, partitions, stoppingToken);
            consumer.Close();
        }
    }

    // Reads until the batch is full, or the consumer has nothing more buffered and no append is in flight (a tiny batch
    // waits a little longer to fill).
    List<ReadMessage> Collect(IConsumer<byte[]?, byte[]?> consumer, PartitionAssignment partitions, Outage reading, CancellationToken stoppingToken)
    {
        var batch = new List<ReadMessage>();
        DateTime? smallUntil = null;
        while (batch.Count < _options.MaxBatchSize && !stoppingToken.IsCancellationRequested && !partitions.NeedsPositioning)
        {
            TimeSpan wait;
            if (Writing)
            {
                wait = WhileWriting;
            }
            else if (batch.Count == 0)
            {
                // The append just ended: hand back to the loop to settle it.
                if (_inFlight is not null)
                {
                    break;
                }
                wait = IdleWait;
            }
            else if (batch.Count < _options.SmallBatch && smallUntil is { } until && Remaining(until, DateTime.UtcNow) is { Ticks: > 0 } left)
            {
                wait = left;
            }
            else
            {
                wait = TimeSpan.Zero;
            }
            ConsumeResult<byte[]?, byte[]?>? result;
            try
            {
                result = consumer.Consume(wait);
            }
            catch (ConsumeException e) when (e.Error.Code == ErrorCode.Local_AutoOffsetReset)
            {
                partitions.OffsetOutOfRange(e.ConsumerRecord?.TopicPartition);
                continue;
            }
            catch (ConsumeException e) when (!e.Error.IsFatal)
            {
                LogConsumeError(logger, e, e.Error.Code);
                continue;
            }
            if (result is null)
            {
                if (Writing || (batch.Count > 0 && wait > TimeSpan.Zero))
                {
                    continue;
                }
                break;
            }
            if (reading.InProgress)
            {
                reading.Succeeded();
            }
            if (!partitions.Owns(result.Partition.Value))
            {
                _droppedNotOwned++;
                // Read before the partition was moved back to its stored offset.
                continue;
            }
            if (partitions.StoredOffset(result.Partition.Value) is { } next && result.Offset.Value < next)
            {
                _droppedStored++;
                // Stored already: a fetcher librdkafka sent back to an earlier place must not move the stored offset back.
                continue;
            }
            counters.AddRead();
            batch.Add(SignalBatch.Read(result, _options.MaxClockSkew, shards));
            smallUntil ??= DateTime.UtcNow + _options.MaxBatchWait;
        }
        return batch;
    }

    // With no append in flight: starts again the fetcher of each partition found silent (SilentPartitionWatch), leaving
    // out the partitions of the messages in hand, which are delivering.
    void RestartSilent(IConsumer<byte[]?, byte[]?> consumer, PartitionAssignment partitions, SilentPartitionWatch silence, List<ReadMessage> inHand)
    {
        if (!silence.Due)
        {
            return;
        }
        var delivering = inHand.Select(m => m.Partition).ToHashSet();
        foreach (var silent in silence.Check(consumer, partitions.Reading.Where(r => !delivering.Contains(r.Partition))))
        {
            partitions.Restart(consumer, silent, _state?.Fetches.FirstOrDefault(f => f.Partition == silent.Partition));
        }
    }

    /// <summary>
    /// What is left at <paramref name="now"/> of a wait until <paramref name="until"/>: zero once it is over, never
    /// negative. Consume passes a timeout in whole milliseconds, so one 1 to 2 ms below zero reaches librdkafka as -1,
    /// no time limit: the batch in hand then waits for the next message, which a quiet topic never sends. The clock was
    /// read twice, and a thread preempted between the two readings held a clean-clone CI run's 6 signals so for 2 minutes.
    /// </summary>
    internal static TimeSpan Remaining(DateTime until, DateTime now) => until > now ? until - now : TimeSpan.Zero;

    // Waits for the append in flight, if any, and applies how it ended; on this consumer's thread only.
    void Settle(IConsumer<byte[]?, byte[]?> consumer, PartitionAssignment partitions, CancellationToken stoppingToken)
    {
        if (_inFlight is not { } inFlight)
        {
            return;
        }
        _inFlight = null;
        IReadOnlyList<BatchWritten>? parts = null;
        try
        {
            parts = inFlight.Written.GetAwaiter().GetResult();
        }
        catch (Exception) when (inFlight.Abandon.IsCancellationRequested)
        {
            // Stopped or abandoned: whatever it failed with, what it read is read again from the store.
        }
        var abandoned = inFlight.Abandon.IsCancellationRequested;
        inFlight.Abandon.Dispose();
        if (parts is null)
        {
            if (abandoned && !stoppingToken.IsCancellationRequested)
            {
                // Nothing of it is stored (or, if its commit raced the abandon, the store says so): read it again from there.
                LogAbandoned(logger, PartitionList(inFlight.Batch.Partitions));
                partitions.ReadAgain(inFlight.Batch.Partitions);
            }
            return;
        }
        foreach (var written in parts)
        {
            foreach (var fenced in written.Fenced)
            {
                counters.AddFenced();
                LogFenced(logger, fenced, fenced.Partition, PartitionList(written.Batch.Partitions));
                partitions.Fenced(consumer, fenced.Partition);
            }
            if (written.Result is { } result)
            {
                Committed(written.Batch, partitions, result, written.Letters);
            }
            else if (written.StalledBy is { } cause)
            {
                partitions.Stall(consumer, written.Shard, cause);
            }
        }
    }

    // The offsets stored for newly assigned partitions, loaded in the assignment handler, waiting out a database outage
    // (librdkafka heartbeats on its own thread meanwhile); empty when stopping first. With several shards each shard is
    // asked once, and the partitions of one that does not answer are stalled rather than waited for.
    IReadOnlyDictionary<int, long> StoredOffsets(List<TopicPartition> assigned, PartitionAssignment partitions, Outage writing, CancellationToken stoppingToken)
    {
        IReadOnlyDictionary<int, long> stored = new Dictionary<int, long>();
        if (assigned.Count == 0)
        {
            return stored;
        }
        if (shards.Sharded)
        {
            return partitions.LoadAssignedAsync(assigned.Select(p => p.Partition.Value), stoppingToken).GetAwaiter().GetResult();
        }
        UntilDoneAsync(writing, async () => stored = await shards.LoadKafkaOffsetsAsync(0, _options.ConsumerGroup, _kafka.SignalsTopic, stoppingToken), stoppingToken)
            .GetAwaiter().GetResult();
        return stored;
    }

    // Partitions are leaving this consumer: an append in flight that writes any of them commits within the drain, or is
    // abandoned (at once for lost partitions, whose new owner may already be writing), so nothing is stored for them once
    // the rebalance handler returns. An append of other partitions only goes on.
    void Drain(
        IConsumer<byte[]?, byte[]?> consumer, PartitionAssignment partitions, List<TopicPartitionOffset> leaving, bool lost, CancellationToken stoppingToken)
    {
        if (_inFlight is not { } inFlight || !inFlight.Batch.Partitions.Any(p => leaving.Any(l => l.Partition.Value == p)))
        {
            return;
        }
        if (lost || !((IAsyncResult)inFlight.Written).AsyncWaitHandle.WaitOne(_options.RevokeDrain))
        {
            inFlight.Abandon.Cancel();
        }
        Settle(consumer, partitions, stoppingToken);
    }

    // Stores one batch; null when stopped or abandoned first. Runs off the consumer's thread, so it leaves the partitions
    // alone and reports what happened. With one shard, one transaction that waits out outages; with several, one part
    // per shard, side by side, each ending on its own.
    async Task<IReadOnlyList<BatchWritten>?> WriteAsync(SignalBatch batch, Outage writing, CancellationToken cancellationToken)
    {
        if (!shards.Sharded)
        {
            return await WritePartAsync(0, batch, writing, cancellationToken) is { } written ? [written] : null;
        }
        var parts = await Task.WhenAll(batch.ByShard(shards.ShardOf).Select(p => WritePartAsync(p.Shard, p.Part, null, cancellationToken)));
        return parts.Any(p => p is null) ? null : [.. parts.OfType<BatchWritten>()];
    }

    // Stores one shard's part: a partition another consumer moved the offset of is left out and the rest written without
    // it. With an outage to wait out (one shard), transient failures are retried until they end; without (several), the
    // first one ends the part as stalled, nothing of it known stored.
    async Task<BatchWritten?> WritePartAsync(int shard, SignalBatch batch, Outage? writing, CancellationToken cancellationToken)
    {
        var fenced = new List<OffsetFencedException>();
        while (true)
        {
            BatchWritten? written = null;
            if (writing is not null)
            {
                await UntilDoneAsync(writing, async attempt => written = await WriteOnceAsync(shard, batch, attempt, cancellationToken), cancellationToken);
            }
            else
            {
                try
                {
                    written = await WriteOnceAsync(shard, batch, new BatchAttempt(), cancellationToken);
                }
                catch (Exception e) when (TransientFaults.IsTransient(e) && !cancellationToken.IsCancellationRequested)
                {
                    return new BatchWritten(shard, batch, null, [], fenced, e);
                }
            }
            if (written is null)
            {
                return null;
            }
            if (written.Result is not null)
            {
                return written with { Fenced = fenced };
            }
            fenced.AddRange(written.Fenced);
            batch = batch.Without(written.Fenced[0].Partition);
            if (batch.Messages == 0)
            {
                return new BatchWritten(shard, batch, null, [], fenced);
            }
        }
    }

    // One attempt at storing a batch; the first attempt's outcome is kept for when a retry finds it committed.
    async Task<BatchWritten> WriteOnceAsync(int shard, SignalBatch batch, BatchAttempt attempt, CancellationToken cancellationToken)
    {
        try
        {
            await _writer.WriteAsync(shard, batch, attempt, cancellationToken);
        }
        catch (OffsetFencedException e)
        {
            if (attempt.Outcome is null || !await CommittedEarlierAsync(shard, batch, cancellationToken))
            {
                return new BatchWritten(shard, batch, null, [], [e]);
            }
            LogCommittedEarlier(logger, e.Topic, e.Partition);
        }
        var (result, letters) = attempt.Outcome ?? throw new InvalidOperationException("A batch committed without reaching its outcome");
        return new BatchWritten(shard, batch, result, letters, []);
    }

    void Committed(SignalBatch batch, PartitionAssignment partitions, SignalBatchResult result, List<DeadLetter> letters)
    {
        foreach (var offset in batch.Offsets)
        {
            partitions.Stored(offset.Partition, offset.NextOffset);
            storedOffsets.Stored(offset.Partition, offset.NextOffset);
        }
        long appended = 0, duplicates = 0, conflicting = 0, stale = 0;
        foreach (var outcome in result.Outcomes)
        {
            switch (outcome)
            {
                case SignalAppendOutcome.Appended:
                    appended++;
                    break;
                case SignalAppendOutcome.Duplicate:
                    duplicates++;
                    break;
                case SignalAppendOutcome.Conflicting:
                    conflicting++;
                    break;
                case SignalAppendOutcome.Stale:
                    stale++;
                    break;
            }
        }
        foreach (var letter in letters)
        {
            var source = letter.Source;
            LogDeadLettered(logger, source.Topic, source.Partition.Value, source.Offset.Value, KeyText(source), letter.Reason);
        }
        if (duplicates > 0)
        {
            LogDuplicates(logger, duplicates);
        }
        if (logger.IsEnabled(LogLevel.Debug))
        {
            LogStored(logger, batch.Messages, PartitionList(batch.Partitions), OffsetRanges(batch.Offsets));
        }
        counters.AddBatch(appended, duplicates, conflicting, stale, letters.Count);
    }

    // After a failure that left the commit's fate unknown (the connection broke during COMMIT), a rerun finds its own
    // offsets already stored: the earlier attempt committed.
    async Task<bool> CommittedEarlierAsync(int shard, SignalBatch batch, CancellationToken stoppingToken)
    {
        var stored = await shards.LoadKafkaOffsetsAsync(shard, _options.ConsumerGroup, _kafka.SignalsTopic, stoppingToken);
        return batch.Offsets.All(o => stored.TryGetValue(o.Partition, out var next) && next == o.NextOffset);
    }

    // Waits out transient database and broker failures of one step, with one warning when they begin and one when they end.
    async Task UntilDoneAsync(Outage outage, Func<BatchAttempt, Task> step, CancellationToken stoppingToken)
    {
        var attempt = new BatchAttempt();
        while (true)
        {
            try
            {
                await step(attempt);
                outage.Succeeded();
                return;
            }
            catch (Exception e) when (TransientFaults.IsTransient(e) && !stoppingToken.IsCancellationRequested)
            {
                if (!await Outage.WaitAsync(outage.Failed(e, MaxRetryDelay), stoppingToken))
                {
                    return;
                }
            }
        }
    }

    Task UntilDoneAsync(Outage outage, Func<Task> step, CancellationToken stoppingToken) =>
        UntilDoneAsync(outage, _ => step(), stoppingToken);

    // librdkafka retries the brokers by itself; the loop only says so, once, and watches for them to come back. Brief
    // errors of one connection (a broker closing an idle one, say) are routine; errors no retry mends are not.
    void OnError(Error error, Outage reading)
    {
        if (error.Code == ErrorCode.Local_AllBrokersDown && !error.IsFatal)
        {
            if (!reading.InProgress)
            {
                reading.Failed(new KafkaException(error));
            }
            return;
        }
        var level = error.IsFatal ? LogLevel.Error : TransientFaults.IsTransient(new KafkaException(error)) ? LogLevel.Debug : LogLevel.Warning;
        LogKafkaError(logger, level, error.Code, error.Reason);
    }

    // On the consumer's thread, from within Consume.
    ConsumerState State(string name, string statistics, PartitionAssignment partitions, Outage reading, SilentPartitionWatch silence)
    {
        IReadOnlyList<PartitionFetch> fetches;
        string? unreadable = null;
        try
        {
            fetches = ConsumerStates.Fetches(statistics, _kafka.SignalsTopic);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            (fetches, unreadable) = ([], $"; statistics unreadable ({e.GetType().Name})");
        }
        var appending = _inFlight is { } inFlight
            ? $"an append of {inFlight.Batch.Messages} messages of partitions {PartitionList(inFlight.Batch.Partitions)} in flight since {inFlight.Since:HH:mm:ss.fff}"
            : "no append in flight";
        var sent = _lastBatch is { } last ? $"last batch of {last.Messages} sent {last.At:HH:mm:ss.fff}" : "no batch sent yet";
        var idle = _lastIdle is { } at ? $"last idle {at:HH:mm:ss.fff}" : "never idle yet";
        var loop = $"partitions {partitions}; {appending}; {sent}; {idle}; brokers {(reading.InProgress ? "out" : "answering")}; {silence}; "
            + $"dropped {_droppedNotOwned} read from partitions not read now, {_droppedStored} stored already, {_droppedAfterSettle} of partitions gone before their batch left{unreadable}";
        return new ConsumerState(name, DateTime.UtcNow, loop, fetches);
    }

    // Null when any broker answers a metadata request within the timeout; else why none did. librdkafka reports every
    // broker down (AllBrokersDown) only once each broker it knows has failed a connection attempt, which a consumer
    // connected to a few of them may not make for long, so an outage of reading begins and ends by this answer too.
    KafkaException? Unanswered(IAdminClient brokers, TimeSpan timeout)
    {
        try
        {
            brokers.GetMetadata(_kafka.SignalsTopic, timeout);
            return null;
        }
        catch (KafkaException e)
        {
            return e;
        }
    }

    static string PartitionList(IEnumerable<int> partitions) => string.Join(",", partitions.Order());

    // Each partition's stored range, from the offset stored before to the one stored now: "3:100-1191,5:0-880".
    static string OffsetRanges(IEnumerable<KafkaOffsetAdvance> offsets) =>
        string.Join(",", offsets.OrderBy(o => o.Partition).Select(o => $"{o.Partition}:{o.ExpectedNextOffset ?? 0}-{o.NextOffset}"));

    static string KeyText(ConsumeResult<byte[]?, byte[]?> message) =>
        message.Message.Key is { } key ? UntrustedText.Escape(key) : "(no key)";

    [LoggerMessage(Level = LogLevel.Information, Message = "Ingest consuming {Topic} as group {Group}")]
    static partial void LogConsuming(ILogger logger, string topic, string group);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dead-lettered {Topic}/{Partition}@{Offset} of job {JobId}: {Reason}")]
    static partial void LogDeadLettered(ILogger logger, string topic, int partition, long offset, string jobId, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Skipped {Duplicates} duplicate signals already in the store")]
    static partial void LogDuplicates(ILogger logger, long duplicates);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Another consumer moved the stored offset of partition {Partition}: dropped that partition; stored the rest of the batch without it (partitions {Stored})")]
    static partial void LogFenced(ILogger logger, Exception exception, int partition, string stored);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Abandoned the batch in flight for partitions {Partitions} (rolled back): its partitions were revoked or lost")]
    static partial void LogAbandoned(ILogger logger, string partitions);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Stored {Messages} messages of partitions {Partitions} (offsets {Offsets})")]
    static partial void LogStored(ILogger logger, int messages, string partitions, string offsets);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "A batch's earlier attempt had committed before its connection failed ({Topic}/{Partition} already stored): nothing to redo")]
    static partial void LogCommittedEarlier(ILogger logger, string topic, int partition);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka consume error {Code}")]
    static partial void LogConsumeError(ILogger logger, Exception exception, ErrorCode code);

    [LoggerMessage(Message = "Kafka consumer error {Code}: {Reason}")]
    static partial void LogKafkaError(ILogger logger, LogLevel level, ErrorCode code, string reason);
}
