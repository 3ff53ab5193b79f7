using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streaming.Contracts.Text;
using Streaming.EventStore;
using Streaming.Hosting.Kafka;
using Streaming.Hosting.Resilience;
using Streaming.Ingest.DeadLetters;

namespace Streaming.Ingest.Consuming;

/// <summary>
/// Reads <c>job-signals</c> in batches and appends each valid signal to its job's stream exactly once. The Kafka offsets
/// live in PostgreSQL, written in the transaction that stores the events and fenced by compare-and-set, so a restart
/// or a rebalance resumes exactly where the durable state ends (<see cref="PartitionAssignment"/>). Every message is
/// either stored or on the dead-letter topic before its offset is stored. <see cref="IngestWorker"/> runs several in
/// one process, each a member of the consumer group with partitions (and so jobs) of its own.
/// </summary>
sealed partial class SignalConsumer(
    IOptions<KafkaOptions> kafkaOptions,
    IOptions<IngestOptions> ingestOptions,
    SignalLog store,
    DeadLetterPublisher deadLetters,
    IngestCounters counters,
    LoopHealth health,
    ILogger<SignalConsumer> logger)
{
    static readonly TimeSpan BrokerProbeInterval = TimeSpan.FromSeconds(2);

    // Ingest is the loop retention races: it retries at least every 2 s, so it resumes soon after an outage ends.
    static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(2);

    readonly KafkaOptions _kafka = kafkaOptions.Value;
    readonly IngestOptions _options = ingestOptions.Value;

    /// <param name="name">The loop's name in <see cref="LoopHealth"/> and the logs.</param>
    public async Task RunAsync(string name, CancellationToken stoppingToken)
    {
        // Writing (to PostgreSQL and the dead-letter topic) and reading from the brokers fail and recover separately.
        var writing = new Outage(name, health, logger);
        var reading = new Outage(name + " (brokers)", health, logger);
        health.Running(name);
        health.Running(name + " (brokers)");
        var partitions = new PartitionAssignment(store, _options.ConsumerGroup, _kafka.SignalsTopic, counters, logger);
        var config = KafkaClientConfig.Consumer(_kafka, "streaming-ingest", _options.ConsumerGroup);
        // Never jump silently when the stored offset is gone: the consumer reports it and PartitionAssignment counts the loss.
        config.AutoOffsetReset = AutoOffsetReset.Error;
        RequireEagerAssignor(config);
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config)
            .SetPartitionsAssignedHandler((_, assigned) => partitions.OnAssigned(assigned))
            .SetPartitionsRevokedHandler((_, revoked) => partitions.OnRevoked(revoked.Select(p => p.TopicPartition)))
            .SetPartitionsLostHandler((_, lost) => partitions.OnRevoked(lost.Select(p => p.TopicPartition)))
            .SetErrorHandler((_, error) => OnError(error, reading))
            .Build();
        consumer.Subscribe(_kafka.SignalsTopic);
        LogConsuming(logger, _kafka.SignalsTopic, _options.ConsumerGroup);
        var nextProbe = DateTime.UtcNow;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (partitions.NeedsPositioning)
                {
                    await UntilDoneAsync(writing, () => partitions.PositionAsync(consumer, stoppingToken), stoppingToken);
                    continue;
                }
                var batch = Collect(consumer, partitions, reading, stoppingToken);
                if (batch.Count > 0)
                {
                    await UntilDoneAsync(writing, attempt => WriteAsync(batch, partitions, attempt, stoppingToken), stoppingToken);
                }
                else if (reading.InProgress && DateTime.UtcNow >= nextProbe)
                {
                    nextProbe = DateTime.UtcNow + BrokerProbeInterval;
                    ProbeBrokers(consumer, reading);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            consumer.Close();
        }
    }

    List<ConsumeResult<byte[]?, byte[]?>> Collect(
        IConsumer<byte[]?, byte[]?> consumer, PartitionAssignment partitions, Outage reading, CancellationToken stoppingToken)
    {
        var batch = new List<ConsumeResult<byte[]?, byte[]?>>();
        DateTime? deadline = null;
        while (batch.Count < _options.MaxBatchSize && !stoppingToken.IsCancellationRequested && !partitions.NeedsPositioning)
        {
            var wait = deadline is { } d ? d - DateTime.UtcNow : TimeSpan.FromMilliseconds(250);
            if (wait <= TimeSpan.Zero)
            {
                break;
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
                if (deadline is null)
                {
                    break;
                }
                continue;
            }
            if (reading.InProgress)
            {
                reading.Succeeded();
            }
            batch.Add(result);
            deadline ??= DateTime.UtcNow + _options.MaxBatchWait;
        }
        return batch;
    }

    // One attempt at storing a batch; the first attempt's outcome is kept for when a retry finds it committed.
    async Task WriteAsync(
        List<ConsumeResult<byte[]?, byte[]?>> consumed, PartitionAssignment partitions, WriteAttempt attempt, CancellationToken stoppingToken)
    {
        var owned = consumed.Where(r => partitions.Owns(r.Partition.Value)).ToList();
        if (owned.Count == 0)
        {
            return;
        }
        var batch = SignalBatch.Read(owned, partitions, _options.ConsumerGroup, _options.MaxClockSkew);
        try
        {
            await store.AppendSignalsAsync(batch.Signals, batch.Offsets, async (outcome, cancellationToken) =>
            {
                var letters = batch.DeadLetters(outcome);
                // On the topic before the offsets move past them; a rerun may publish them again (at least once).
                await deadLetters.PublishAsync(letters, cancellationToken);
                attempt.Outcome = (outcome, letters);
            }, stoppingToken);
        }
        catch (OffsetFencedException e)
        {
            if (attempt.Outcome is null || !await CommittedEarlierAsync(batch, stoppingToken))
            {
                counters.AddFenced();
                LogFenced(logger, e);
                partitions.Fenced();
                return;
            }
            LogCommittedEarlier(logger, e.Topic, e.Partition);
        }
        var (result, letters) = attempt.Outcome ?? throw new InvalidOperationException("A batch committed without reaching its outcome");
        Committed(batch, partitions, result, letters);
    }

    void Committed(SignalBatch batch, PartitionAssignment partitions, SignalBatchResult result, List<DeadLetter> letters)
    {
        foreach (var offset in batch.Offsets)
        {
            partitions.Stored(offset.Partition, offset.NextOffset);
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
        counters.AddBatch(appended, duplicates, conflicting, stale, letters.Count);
    }

    // After a failure that left the commit's fate unknown (the connection broke during COMMIT), a rerun finds its own
    // offsets already stored: the earlier attempt committed.
    async Task<bool> CommittedEarlierAsync(SignalBatch batch, CancellationToken stoppingToken)
    {
        var stored = await store.LoadKafkaOffsetsAsync(_options.ConsumerGroup, _kafka.SignalsTopic, stoppingToken);
        return batch.Offsets.All(o => stored.TryGetValue(o.Partition, out var next) && next == o.NextOffset);
    }

    // Waits out transient database and broker failures of one step, with one warning when they begin and one when they end.
    async Task UntilDoneAsync(Outage outage, Func<WriteAttempt, Task> step, CancellationToken stoppingToken)
    {
        var attempt = new WriteAttempt();
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

    void ProbeBrokers(IConsumer<byte[]?, byte[]?> consumer, Outage reading)
    {
        try
        {
            consumer.QueryWatermarkOffsets(new TopicPartition(_kafka.SignalsTopic, 0), TimeSpan.FromSeconds(1));
            reading.Succeeded();
        }
        catch (KafkaException)
        {
            // Still down: the outage goes on, already reported.
        }
    }

    static void RequireEagerAssignor(ConsumerConfig config)
    {
        if (config.PartitionAssignmentStrategy is { } strategy && strategy.HasFlag(PartitionAssignmentStrategy.CooperativeSticky))
        {
            throw new InvalidOperationException(
                "Ingest positions its partitions from the stored offsets after each rebalance, which needs an eager assignor (range or roundrobin), not cooperative-sticky");
        }
    }

    static string KeyText(ConsumeResult<byte[]?, byte[]?> message) =>
        message.Message.Key is { } key ? UntrustedText.Escape(key) : "(no key)";

    /// <summary>What one batch's attempts share: the outcome an attempt reached before committing.</summary>
    sealed class WriteAttempt
    {
        public (SignalBatchResult Result, List<DeadLetter> Letters)? Outcome { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Ingest consuming {Topic} as group {Group}")]
    static partial void LogConsuming(ILogger logger, string topic, string group);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dead-lettered {Topic}/{Partition}@{Offset} of job {JobId}: {Reason}")]
    static partial void LogDeadLettered(ILogger logger, string topic, int partition, long offset, string jobId, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Skipped {Duplicates} duplicate signals already in the store")]
    static partial void LogDuplicates(ILogger logger, long duplicates);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Another consumer moved the stored offsets; dropping this batch and resuming from the store")]
    static partial void LogFenced(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "A batch's earlier attempt had committed before its connection failed ({Topic}/{Partition} already stored): nothing to redo")]
    static partial void LogCommittedEarlier(ILogger logger, string topic, int partition);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka consume error {Code}")]
    static partial void LogConsumeError(ILogger logger, Exception exception, ErrorCode code);

    [LoggerMessage(Message = "Kafka consumer error {Code}: {Reason}")]
    static partial void LogKafkaError(ILogger logger, LogLevel level, ErrorCode code, string reason);
}
