using System.Globalization;
using Confluent.Kafka;
using Npgsql;
using Streaming.Contracts;
using Streaming.EventStore;

namespace Streaming.Chaos.Environment;

/// <summary>Reads how far the services under test have got: started, everything stored, every fold past the end of the log.</summary>
public sealed class PipelineProbe(NpgsqlDataSource store, string bootstrapServers, int partitions)
{
    /// <summary>The schema is migrated and the Promoter has published the policy (signals stored before it would be decided by none).</summary>
    public Task WaitForStartAsync(string policy, TimeSpan timeout, Func<string> diagnostics, CancellationToken cancellationToken) =>
        Until.TrueAsync(
            async ct =>
            {
                try
                {
                    return await ScalarAsync($"select count(*) from es.events where stream_id = 'policy:{policy}'", ct) > 0
                        && await ScalarAsync("select count(*) from pg_tables where schemaname = 'es' and tablename = 'kafka_offsets'", ct) > 0;
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
                {
                    return false;
                }
            },
            timeout, () => "the services to start (schema migrated, policy published): " + diagnostics(), cancellationToken);

    /// <summary>Ingest has stored the offsets of every message in the signal topic: it has read (stored or dead-lettered) all of them.</summary>
    public async Task WaitForIngestAsync(TimeSpan timeout, Func<string> diagnostics, CancellationToken cancellationToken)
    {
        var ends = HighWatermarks();
        await Until.TrueAsync(
            async ct =>
            {
                var stored = await StoredOffsetsAsync(ct);
                return ends.Select((end, partition) => end == 0 || stored.GetValueOrDefault(partition) >= end).All(done => done);
            },
            timeout, () => $"Ingest to store offsets up to {string.Join(",", ends)}: " + diagnostics(), cancellationToken);
    }

    /// <summary>
    /// Every checkpoint but the history archive's (which writes whole blocks only) is past the last event of its
    /// partition, and the three folds have one.
    /// </summary>
    public Task WaitForFoldsAsync(TimeSpan timeout, Func<string> diagnostics, CancellationToken cancellationToken) =>
        Until.TrueAsync(
            async ct =>
            {
                var folds = $"""
                    select count(distinct f.name) filter (where not behind) * 1000 + count(*) filter (where behind)
                    from (select c.name, exists (select from {UnreadEvents.After("c", 1)}) as behind
                          from es.checkpoints c where c.name <> 'history-archive') f
                    """;
                var counts = await ScalarAsync(folds, ct);
                return counts % 1000 == 0 && counts / 1000 >= 3;
            },
            timeout, () => "the Projector and Promoter to pass the end of the log: " + diagnostics(), cancellationToken);

    /// <summary>The store's log partition count, fixed when the services made it.</summary>
    public Task<long> LogPartitionsAsync(CancellationToken cancellationToken) => ScalarAsync("select partitions from es.log_partitioning", cancellationToken);

    public IReadOnlyList<long> HighWatermarks()
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "chaos-probe",
        }).SetLogHandler((_, _) => { }).Build();
        return Enumerable.Range(0, partitions)
            .Select(p => consumer.QueryWatermarkOffsets(new TopicPartition(Topics.Signals, p), TimeSpan.FromSeconds(30)).High.Value)
            .ToList();
    }

    async Task<Dictionary<int, long>> StoredOffsetsAsync(CancellationToken cancellationToken)
    {
        await using var command = store.CreateCommand(
            $"select partition, next_offset from es.kafka_offsets where topic = '{Topics.Signals}' and consumer_group = 'streaming-ingest'");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var offsets = new Dictionary<int, long>();
        while (await reader.ReadAsync(cancellationToken))
        {
            offsets[reader.GetInt32(0)] = reader.GetInt64(1);
        }
        return offsets;
    }

    async Task<long> ScalarAsync(string sql, CancellationToken cancellationToken)
    {
        await using var command = store.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }
}
