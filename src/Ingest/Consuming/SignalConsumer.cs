using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.Signals;
using Streaming.EventStore;
using Streaming.Hosting.Kafka;
using Streaming.Ingest.DeadLetters;

namespace Streaming.Ingest.Consuming;

/// <summary>
/// Reads <c>job-signals</c> in batches and appends each valid signal to its job's stream exactly once. The Kafka offsets
/// live in PostgreSQL, written in the transaction that stores the events and fenced by compare-and-set, so a restart
/// or a rebalance resumes exactly where the durable state ends. <see cref="IngestWorker"/> runs several in one process,
/// each a member of the consumer group with partitions (and so jobs) of its own.
/// </summary>
sealed class SignalConsumer(
    IOptions<KafkaOptions> kafkaOptions,
    IOptions<IngestOptions> ingestOptions,
    SignalLog store,
    DeadLetterPublisher deadLetters,
    IngestCounters counters,
    ILogger<SignalConsumer> logger)
{
    readonly KafkaOptions _kafka = kafkaOptions.Value;
    readonly IngestOptions _options = ingestOptions.Value;

    // Next offset to store per owned partition; null when the store has none yet. Touched only on the consume thread,
    // which is also where librdkafka runs the rebalance handlers.
    readonly Dictionary<int, long?> _owned = [];

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var config = KafkaClientConfig.Consumer(_kafka, "streaming-ingest", _options.ConsumerGroup);
        // Never jump silently when the stored offset is gone: the consumer reports it and RecoverFromOffsetReset counts the loss.
        config.AutoOffsetReset = AutoOffsetReset.Error;
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config)
            .SetPartitionsAssignedHandler(OnAssigned)
            .SetPartitionsRevokedHandler((_, revoked) => Release(revoked.Select(p => p.TopicPartition)))
            .SetPartitionsLostHandler((_, lost) => Release(lost.Select(p => p.TopicPartition)))
            .SetErrorHandler((_, error) => logger.LogWarning("Kafka consumer error {Code}: {Reason}", error.Code, error.Reason))
            .Build();
        consumer.Subscribe(_kafka.SignalsTopic);
        logger.LogInformation("Ingest consuming {Topic} as group {Group}", _kafka.SignalsTopic, _options.ConsumerGroup);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var batch = Collect(consumer, stoppingToken);
                if (batch.Count > 0)
                {
                    await WriteAsync(consumer, batch, stoppingToken);
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

    List<ConsumeResult<byte[]?, byte[]?>> Collect(IConsumer<byte[]?, byte[]?> consumer, CancellationToken stoppingToken)
    {
        var batch = new List<ConsumeResult<byte[]?, byte[]?>>();
        DateTime? deadline = null;
        while (batch.Count < _options.MaxBatchSize && !stoppingToken.IsCancellationRequested)
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
                RecoverFromOffsetReset(consumer, e.ConsumerRecord?.TopicPartition);
                continue;
            }
            catch (ConsumeException e) when (!e.Error.IsFatal)
            {
                logger.LogWarning(e, "Kafka consume error {Code}", e.Error.Code);
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
            batch.Add(result);
            deadline ??= DateTime.UtcNow + _options.MaxBatchWait;
        }
        return batch;
    }

    async Task WriteAsync(IConsumer<byte[]?, byte[]?> consumer, List<ConsumeResult<byte[]?, byte[]?>> batch, CancellationToken stoppingToken)
    {
        var owned = batch.Where(r => _owned.ContainsKey(r.Partition.Value)).ToList();
        if (owned.Count == 0)
        {
            return;
        }
        var signals = new List<SignalToAppend>(owned.Count);
        var sources = new List<ConsumeResult<byte[]?, byte[]?>>(owned.Count);
        var letters = new List<DeadLetter>();
        var nextOffsets = new Dictionary<int, long>();
        foreach (var message in owned)
        {
            nextOffsets[message.Partition.Value] = message.Offset.Value + 1;
            var read = JobSignalReader.Read(message.Message.Key, message.Message.Value, message.Message.Key is not null);
            if (read.Signal is { } signal)
            {
                signals.Add(ToAppend(signal, message));
                sources.Add(message);
            }
            else
            {
                letters.Add(new DeadLetter(message, read.RejectionReason!));
            }
        }
        var offsets = nextOffsets
            .Select(p => new KafkaOffsetAdvance(_options.ConsumerGroup, _kafka.SignalsTopic, p.Key, _owned[p.Key], p.Value))
            .ToList();

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await deadLetters.PublishAsync(letters, stoppingToken);
                var result = await store.AppendSignalsAsync(signals, offsets, stoppingToken);
                foreach (var offset in offsets)
                {
                    _owned[offset.Partition] = offset.NextOffset;
                }
                await ReportAsync(result, signals, sources, letters, stoppingToken);
                return;
            }
            catch (OffsetFencedException e)
            {
                counters.AddFenced();
                logger.LogWarning(e, "Another consumer moved the stored offsets; dropping this batch and resuming from the store");
                await ResumeFromStoreAsync(consumer, stoppingToken);
                return;
            }
            catch (Exception e) when (IsTransient(e) && !stoppingToken.IsCancellationRequested)
            {
                var delay = Backoff(attempt);
                logger.LogWarning(e, "Writing a batch of {Count} signals failed (attempt {Attempt}); retrying in {Delay}", owned.Count, attempt, delay);
                await Task.Delay(delay, stoppingToken);
            }
        }
    }

    async Task ReportAsync(
        SignalBatchResult result,
        List<SignalToAppend> signals,
        List<ConsumeResult<byte[]?, byte[]?>> sources,
        List<DeadLetter> letters,
        CancellationToken stoppingToken)
    {
        long appended = 0, duplicates = 0;
        var stale = new List<DeadLetter>();
        for (var i = 0; i < result.Outcomes.Count; i++)
        {
            switch (result.Outcomes[i])
            {
                case SignalAppendOutcome.Appended:
                    appended++;
                    break;
                case SignalAppendOutcome.Duplicate:
                    duplicates++;
                    break;
                case SignalAppendOutcome.Stale:
                    stale.Add(new DeadLetter(sources[i], $"seq {signals[i].Seq} arrived after a higher seq of job {signals[i].StreamId} was stored (out of order)"));
                    break;
            }
        }
        foreach (var letter in letters.Concat(stale))
        {
            logger.LogWarning(
                "Dead-lettered {Topic}/{Partition}@{Offset} of job {JobId}: {Reason}",
                letter.Source.Topic, letter.Source.Partition.Value, letter.Source.Offset.Value, KeyText(letter.Source), letter.Reason);
        }
        if (duplicates > 0)
        {
            logger.LogInformation("Skipped {Duplicates} duplicate signals already in the store", duplicates);
        }
        // Whether a signal is stale is known only once the store has looked, so these go out after the commit.
        await deadLetters.PublishAsync(stale, stoppingToken);
        counters.AddBatch(appended, duplicates, stale.Count, letters.Count + stale.Count);
    }

    SignalToAppend ToAppend(JobSignal signal, ConsumeResult<byte[]?, byte[]?> message)
    {
        var recorded = new SignalRecorded(signal.JobId, signal.Seq, signal.EmittedAt, signal.Phase, signal.Metrics, signal.Labels, signal.CorrelationId);
        var metadata = new EventMetadata(signal.CorrelationId, new KafkaSource(message.Topic, message.Partition.Value, message.Offset.Value));
        return new SignalToAppend(
            signal.JobId,
            signal.Seq,
            EventIds.ForSignal(signal.JobId, signal.Seq),
            SignalRecorded.EventType,
            ContractsJson.Serialize(recorded),
            ContractsJson.Serialize(metadata),
            signal.EmittedAt);
    }

    IEnumerable<TopicPartitionOffset> OnAssigned(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartition> assigned)
    {
        var stored = store.LoadKafkaOffsetsAsync(_options.ConsumerGroup, _kafka.SignalsTopic, CancellationToken.None).GetAwaiter().GetResult();
        var starts = new List<TopicPartitionOffset>(assigned.Count);
        foreach (var partition in assigned)
        {
            long? next = stored.TryGetValue(partition.Partition.Value, out var offset) ? offset : null;
            _owned[partition.Partition.Value] = next;
            starts.Add(new TopicPartitionOffset(partition, StartOffset(consumer, partition, next)));
        }
        logger.LogInformation("Assigned partitions {Partitions}", string.Join(",", assigned.Select(p => p.Partition.Value)));
        return starts;
    }

    // Where to read from: the stored offset unless retention deleted it or the log was recreated under it.
    Offset StartOffset(IConsumer<byte[]?, byte[]?> consumer, TopicPartition partition, long? next)
    {
        if (next is null)
        {
            return Offset.Beginning;
        }
        var marks = consumer.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(10));
        if (next < marks.Low.Value)
        {
            ReportLoss(partition, next.Value, marks.Low.Value);
            return marks.Low;
        }
        if (next > marks.High.Value)
        {
            logger.LogError(
                "The log of {Topic}/{Partition} ends at {High} but the store has read up to {Stored}: the topic was recreated; reading it from its start",
                partition.Topic, partition.Partition.Value, marks.High.Value, next);
            return marks.Low;
        }
        return new Offset(next.Value);
    }

    void RecoverFromOffsetReset(IConsumer<byte[]?, byte[]?> consumer, TopicPartition? partition)
    {
        if (partition is null || !_owned.TryGetValue(partition.Partition.Value, out var next))
        {
            logger.LogError("Kafka reported an out-of-range offset for an unknown partition");
            return;
        }
        var marks = consumer.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(10));
        if (next is { } from && from < marks.Low.Value)
        {
            ReportLoss(partition, from, marks.Low.Value);
        }
        // auto.offset.reset=error stops the partition's fetcher, and a stopped fetcher refuses a seek (Local_State):
        // assign again, this partition at the log's new start and every other one where it had got to.
        var assignment = new List<TopicPartitionOffset>();
        foreach (var assigned in consumer.Assignment)
        {
            if (assigned.Equals(partition))
            {
                assignment.Add(new TopicPartitionOffset(assigned, marks.Low));
                continue;
            }
            var position = consumer.Position(assigned);
            assignment.Add(new TopicPartitionOffset(assigned, position != Offset.Unset
                ? position
                : StartOffset(consumer, assigned, _owned.GetValueOrDefault(assigned.Partition.Value))));
        }
        consumer.Assign(assignment);
    }

    void ReportLoss(TopicPartition partition, long from, long to)
    {
        counters.AddLostToRetention(to - from);
        logger.LogError(
            "DATA LOSS: retention deleted {Lost} unread messages of {Topic}/{Partition} (offsets {From}..{To}) before Ingest stored them",
            to - from, partition.Topic, partition.Partition.Value, from, to - 1);
    }

    async Task ResumeFromStoreAsync(IConsumer<byte[]?, byte[]?> consumer, CancellationToken stoppingToken)
    {
        var stored = await store.LoadKafkaOffsetsAsync(_options.ConsumerGroup, _kafka.SignalsTopic, stoppingToken);
        foreach (var partition in _owned.Keys.ToList())
        {
            long? next = stored.TryGetValue(partition, out var offset) ? offset : null;
            _owned[partition] = next;
            var topicPartition = new TopicPartition(_kafka.SignalsTopic, partition);
            consumer.Seek(new TopicPartitionOffset(topicPartition, StartOffset(consumer, topicPartition, next)));
        }
    }

    void Release(IEnumerable<TopicPartition> partitions)
    {
        foreach (var partition in partitions)
        {
            _owned.Remove(partition.Partition.Value);
        }
    }

    static string KeyText(ConsumeResult<byte[]?, byte[]?> message) =>
        message.Message.Key is { } key ? System.Text.Encoding.UTF8.GetString(key) : "(no key)";

    static bool IsTransient(Exception e) => e switch
    {
        NpgsqlException npgsql => npgsql.IsTransient,
        ProduceException<byte[]?, byte[]?> produce => !produce.Error.IsFatal,
        KafkaException kafka => !kafka.Error.IsFatal,
        TimeoutException => true,
        _ => false,
    };

    static TimeSpan Backoff(int attempt)
    {
        var capped = Math.Min(30_000, 100 * Math.Pow(2, Math.Min(attempt, 10)));
        return TimeSpan.FromMilliseconds(capped * (0.5 + Random.Shared.NextDouble() / 2));
    }
}
