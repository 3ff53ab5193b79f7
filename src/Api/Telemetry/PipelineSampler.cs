using System.Diagnostics.Metrics;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Api.Fleet;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Hosting.Kafka;
using Streaming.Hosting.Telemetry;

namespace Streaming.Api.Telemetry;

/// <summary>
/// Samples the pipeline every few seconds, from the store and the broker, whichever processes run it: the log's growth
/// (ingest rate), the dead-letter topic's growth, the consumer group's lag, each fold's lag and the breakers. The health
/// strip, <c>/health/ready</c> and the OpenTelemetry gauges read the latest sample.
/// </summary>
public sealed partial class PipelineSampler : BackgroundService
{
    static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    readonly StoreShards _shards;
    readonly KafkaOptions _kafka;
    readonly FleetQueries _fleet;
    readonly ILogger<PipelineSampler> _logger;
    (DateTimeOffset At, long Position, long DeadLettered)? _previous;

    public PipelineSampler(StoreShards shards, KafkaOptions kafka, FleetQueries fleet, IMeterFactory meters, ILogger<PipelineSampler> logger)
    {
        (_shards, _kafka, _fleet, _logger) = (shards, kafka, fleet, logger);
        var meter = meters.Create(StreamingTelemetry.MeterName);
        meter.CreateObservableGauge("streaming.fold.lag.events", () => Current.Folds.Select(f =>
            new Measurement<long>(f.Events, new KeyValuePair<string, object?>("fold", f.Name))), "{event}", "Events a fold has not read yet");
        meter.CreateObservableGauge("streaming.fold.lag.seconds", () => Current.Folds.Select(f =>
            new Measurement<double>(f.Seconds, new KeyValuePair<string, object?>("fold", f.Name))), "s", "Age of the oldest event a fold has not read");
        meter.CreateObservableGauge("streaming.consumer.lag", () => Current.ConsumerLag, "{message}", "Signals on the broker Ingest has not stored yet");
        meter.CreateObservableCounter("streaming.dead_letter_topic.messages", () => Current.DeadLettered, "{message}", "Messages on the dead-letter topic");
        meter.CreateObservableGauge("streaming.breaker.open", () => Current.Breakers.Select(b => new Measurement<int>(b.Open ? 1 : 0,
            new KeyValuePair<string, object?>("policy", b.Policy), new KeyValuePair<string, object?>("phase", b.Phase))), "1", "1 while a phase's circuit breaker is open");
    }

    public PipelineSample Current { get; private set; } = PipelineSample.None;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(KafkaClientConfig.Consumer(_kafka, "streaming-api-sampler", "streaming-api-sampler")).Build();
        using var timer = new PeriodicTimer(Interval);
        try
        {
            do
            {
                try
                {
                    Current = await SampleAsync(consumer, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogFailed(e);
                    Current = Current with { At = DateTimeOffset.UtcNow, DatabaseReachable = false };
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    async Task<PipelineSample> SampleAsync(IConsumer<byte[], byte[]> consumer, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        // With several shards: the logs' growth added up, each fold as far behind as on its furthest behind shard.
        var shards = await _shards.EachAsync(FoldsAsync, cancellationToken);
        var position = shards.Sum(s => s.Position);
        IReadOnlyList<FoldLag> folds = shards.Length == 1 ? shards[0].Folds
            : [.. shards.SelectMany(s => s.Folds).GroupBy(f => f.Name).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new FoldLag(g.Key, g.Max(f => f.Events), g.Max(f => f.Seconds)))];
        var stored = await StoredOffsetsAsync(cancellationToken);
        var (brokerUp, deadLettered, lag) = await Task.Run(() => Broker(consumer, stored), cancellationToken);
        var breakers = (await _fleet.BreakersAsync(cancellationToken)).Select(b => new BreakerGauge(b.Policy, b.Phase, b.State == CircuitBreakerChanged.Open)).ToList();
        double rate = 0, deadRate = 0;
        if (_previous is { } before && now > before.At)
        {
            var seconds = (now - before.At).TotalSeconds;
            rate = Math.Max(0, position - before.Position) / seconds;
            deadRate = Math.Max(0, deadLettered - before.DeadLettered) / seconds;
        }
        _previous = (now, position, deadLettered);
        return new PipelineSample(now, true, brokerUp, rate, deadRate, deadLettered, lag, folds, breakers);
    }

    static async Task<(long Position, IReadOnlyList<FoldLag> Folds)> FoldsAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        // Retired generations of the job states keep their checkpoints, but nothing reads them any more. A fold has a
        // checkpoint in each partition it reads: its lag is its furthest behind partition's, and a partition with nothing
        // left to read adds none (positions are global, so a quiet partition's position says nothing of its lag).
        await using var command = dataSource.CreateCommand($"""
            select c.name,
                   max(case when unread.committed_at is null then 0 else greatest(0, head.position - c.position) end),
                   max(coalesce(extract(epoch from now() - unread.committed_at), 0)),
                   head.position
            from es.checkpoints c
            cross join (select coalesce(max(global_position), 0) as position from es.events) head
            left join lateral (select t.committed_at from {UnreadEvents.After("c", 1)} t) unread on true
            where c.name not like 'projector:job-states:g%'
               or c.name = (select 'projector:job-states:g' || generation from projections.generations
                            where projection = 'job_states' and state = 'active')
            group by c.name, head.position
            order by c.name
            """);
        var folds = new List<FoldLag>();
        long position = 0;
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                folds.Add(new FoldLag(reader.GetString(0), reader.GetInt64(1), (double)reader.GetDecimal(2)));
                position = reader.GetInt64(3);
            }
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            // The Projector has not created its generations yet.
        }
        if (folds.Count == 0)
        {
            await using var max = dataSource.CreateCommand("select coalesce(max(global_position), 0) from es.events");
            position = (long)(await max.ExecuteScalarAsync(cancellationToken))!;
        }
        return (position, folds);
    }

    // The dead-letter topic's size and the signals topic's lag behind the offsets Ingest stored, from the brokers' watermarks.
    (bool Up, long DeadLettered, long Lag) Broker(IConsumer<byte[], byte[]> consumer, Dictionary<int, long> stored)
    {
        try
        {
            var timeout = TimeSpan.FromSeconds(2);
            using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
            var metadata = admin.GetMetadata(timeout);
            long Sum(string topic, Func<int, long, long> perPartition) =>
                metadata.Topics.Where(t => t.Topic == topic).SelectMany(t => t.Partitions)
                    .Sum(p => perPartition(p.PartitionId, consumer.QueryWatermarkOffsets(new TopicPartition(topic, p.PartitionId), timeout).High.Value));
            return (true,
                Sum(_kafka.SignalsDeadLetterTopic, (_, high) => high),
                Sum(_kafka.SignalsTopic, (partition, high) => Math.Max(0, high - stored.GetValueOrDefault(partition))));
        }
        catch (KafkaException)
        {
            return (false, Current.DeadLettered, Current.ConsumerLag);
        }
    }

    // Each shard stores the offsets of the signals partitions whose jobs it holds: the furthest of them is Ingest's.
    async Task<Dictionary<int, long>> StoredOffsetsAsync(CancellationToken cancellationToken)
    {
        var offsets = new Dictionary<int, long>();
        foreach (var (partition, offset) in (await _shards.EachAsync(ShardOffsetsAsync, cancellationToken)).SelectMany(o => o))
        {
            offsets[partition] = Math.Max(offset, offsets.GetValueOrDefault(partition));
        }
        return offsets;
    }

    async Task<List<(int Partition, long Offset)>> ShardOffsetsAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select partition, max(next_offset) from es.kafka_offsets where topic = $1 group by partition");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _kafka.SignalsTopic });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var offsets = new List<(int, long)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            offsets.Add((reader.GetInt32(0), reader.GetInt64(1)));
        }
        return offsets;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sampling the pipeline failed; the health strip and gauges keep the last sample")]
    partial void LogFailed(Exception exception);
}
