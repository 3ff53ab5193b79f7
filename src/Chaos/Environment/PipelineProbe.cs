using System.Globalization;
using Confluent.Kafka;
using Npgsql;
using Streaming.Contracts;
using Streaming.EventStore;

namespace Streaming.Chaos.Environment;

/// <summary>
/// Reads how far the services under test have got: started, everything stored, every fold past the end of the log. With
/// several shards it asks every shard, and a partition's progress on the shard that holds it.
/// </summary>
public sealed class PipelineProbe(StoreShards shards, string bootstrapServers, int partitions)
{
    /// <summary>
    /// Every shard's schema is migrated and holds the policy (the Promoter published it to shard 0 and the others hold a
    /// copy): signals stored before it would be decided by none.
    /// </summary>
    public Task WaitForStartAsync(string policy, TimeSpan timeout, Func<string> diagnostics, CancellationToken cancellationToken) =>
        Until.TrueAsync(
            async ct => (await shards.EachAsync(async (store, token) =>
            {
                try
                {
                    return await ScalarAsync(store, $"select count(*) from es.events where stream_id = 'policy:{policy}'", token) > 0
                        && await ScalarAsync(store, "select count(*) from pg_tables where schemaname = 'es' and tablename = 'kafka_offsets'", token) > 0;
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
                {
                    return false;
                }
            }, ct)).All(started => started),
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
    /// On every shard, every checkpoint but the history archive's (which writes whole blocks only) and the control relay's
    /// (a position in shard 0's log) is past the last event of its partition, and each of the folds whose results are
    /// compared (the Projector's active job states, the Promoter's decisions and its relay) has a checkpoint in every
    /// partition that holds events. A fold that never saved a partition is not done with it: after a kill its group may
    /// take seconds to hand that partition to anyone, while the other folds and partitions are long caught up.
    /// </summary>
    public Task WaitForFoldsAsync(TimeSpan timeout, Func<string> diagnostics, CancellationToken cancellationToken) =>
        Until.TrueAsync(
            async ct => (await shards.EachAsync((store, token) => ScalarAsync(store, FoldsNotDone, token), ct)).All(notDone => notDone == 0),
            timeout, () => "the Projector and Promoter to pass the end of the log in every partition: " + diagnostics(), cancellationToken);

    // Checkpoints behind the end of their partition, and (fold, partition) pairs of the compared folds without one where the
    // partition holds events.
    static readonly string FoldsNotDone = $"""
        select (select count(*) from es.checkpoints c
                where c.name not in ('history-archive', 'control-relay') and exists (select from {UnreadEvents.After("c", 1)}))
             + (select count(*)
                from (values ('promoter:decisions'), ('promoter:phase-change-relay'),
                             ((select 'projector:job-states:g' || generation from projections.generations
                               where projection = 'job_states' and state = 'active'))) f (name)
                cross join generate_series(0, (select partitions from es.log_partitioning) - 1) p (partition)
                where exists (select from es.read_tail(p.partition, 0, 0, 1))
                  and not exists (select from es.checkpoints c where c.name = f.name and c.partition = p.partition))
        """;

    /// <summary>Each shard's log partition count, fixed when the services made it.</summary>
    public async Task<IReadOnlyList<long>> LogPartitionsAsync(CancellationToken cancellationToken) =>
        await shards.EachAsync((store, ct) => ScalarAsync(store, "select partitions from es.log_partitioning", ct), cancellationToken);

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

    /// <summary>Ingest's stored offset of each Kafka partition, read from the shard holding that partition.</summary>
    async Task<Dictionary<int, long>> StoredOffsetsAsync(CancellationToken cancellationToken)
    {
        var offsets = new Dictionary<int, long>();
        for (var shard = 0; shard < shards.Count; shard++)
        {
            foreach (var (partition, offset) in await StoredOffsetsAsync(shards.DataSource(shard), cancellationToken))
            {
                if (shards.ShardOf(partition) == shard)
                {
                    offsets[partition] = offset;
                }
            }
        }
        return offsets;
    }

    /// <summary>The next offsets Ingest stored in one shard, by Kafka partition of <c>job-signals</c>.</summary>
    public static async Task<Dictionary<int, long>> StoredOffsetsAsync(NpgsqlDataSource store, CancellationToken cancellationToken)
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

    static async Task<long> ScalarAsync(NpgsqlDataSource store, string sql, CancellationToken cancellationToken)
    {
        await using var command = store.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }
}
