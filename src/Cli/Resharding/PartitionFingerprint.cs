using Npgsql;

namespace Streaming.Cli.Resharding;

/// <summary>
/// What a shard holds of one log partition, enough to tell two copies apart: the counts of its stream heads, commits,
/// events and Kafka offsets, its log head, and digests of its events in log order (stream, version, id, commit, type,
/// body), its heads and its offsets. Positions are left out: they are each shard's own, and a moved event gets new ones.
/// </summary>
public sealed record PartitionFingerprint(long Streams, long Commits, long Events, long LogHead, long Offsets, string Digest)
{
    public bool IsEmpty => Streams == 0 && Commits == 0 && Events == 0 && Offsets == 0;

    public static async Task<PartitionFingerprint> ReadAsync(NpgsqlConnection connection, int partition, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            select (select count(*) from es.streams where partition = $1),
                   (select count(*) from es.commits where partition = $1),
                   (select count(*) from es.events e where e.partition = $1 and e.tx_id = any(array(select tx_id from es.commits where partition = $1))),
                   coalesce((select last_commit from es.log_head where partition = $1), 0),
                   (select count(*) from es.kafka_offsets where partition = $1),
                   md5(coalesce((select string_agg(concat_ws('/', e.stream_id, e.version, e.event_id, c.commit, e.type, md5(e.data::text)), ','
                                                   order by c.commit, e.global_position)
                                   from es.commits c join es.events e on e.tx_id = c.tx_id and e.partition = c.partition
                                  where c.partition = $1), '')
                       || coalesce((select string_agg(concat_ws('/', stream_id, version, last_seq), ',' order by stream_id)
                                      from es.streams where partition = $1), '')
                       || coalesce((select string_agg(concat_ws('/', consumer_group, topic, next_offset), ',' order by consumer_group, topic)
                                      from es.kafka_offsets where partition = $1), ''))
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = partition });
        command.CommandTimeout = 0;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new PartitionFingerprint(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetString(5));
    }

    /// <summary>Whether the shard holds anything of the partition: log rows, offsets, checkpoints or archived blocks.</summary>
    public static async Task<bool> HoldsAsync(NpgsqlConnection connection, int partition, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            select exists (select from es.streams where partition = $1) or exists (select from es.commits where partition = $1)
                or exists (select from es.kafka_offsets where partition = $1) or exists (select from es.checkpoints where partition = $1)
                or exists (select from es.poisoned_events where partition = $1) or exists (select from es.history_blocks where partition = $1)
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = partition });
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }
}
