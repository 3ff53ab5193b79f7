using Npgsql;
using NpgsqlTypes;

namespace Streaming.EventStore;

/// <summary>Reads the whole log: the gap-free tail for live readers, and global-position order for replays of a quiet log.</summary>
public sealed class EventLog(NpgsqlDataSource dataSource)
{
    // One statement, so one snapshot: every transaction below the snapshot's xmin has ended, so no event can still
    // appear before the position returned last; a long-running writer anywhere in the cluster holds the tail back.
    const string TailSql = "select " + EventRows.Columns + """
         from es.events
        where (tx_id, global_position) > ($1, $2)
          and tx_id < pg_snapshot_xmin(pg_current_snapshot())
        order by tx_id, global_position
        limit $3
        """;

    /// <summary>
    /// The next committed events after <paramref name="after"/> in commit order (by transaction id, then global position).
    /// Never skips an event that commits late; per stream it is in version order.
    /// </summary>
    public async Task<IReadOnlyList<RecordedEvent>> ReadTailAsync(TailPosition after, int maxCount, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(TailSql);
        AddTailParameters(command, after, maxCount);
        return await EventRows.ReadAsync(command, cancellationToken);
    }

    // The same read for readers that decode bodies themselves: the body as UTF-8 bytes, no metadata.
    const string TailBodiesSql = """
        select global_position, tx_id, stream_id, version, event_id, type, data, seq, event_time, recorded_at
         from es.events
        where (tx_id, global_position) > ($1, $2)
          and tx_id < pg_snapshot_xmin(pg_current_snapshot())
        order by tx_id, global_position
        limit $3
        """;

    /// <summary>
    /// As <see cref="ReadTailAsync(TailPosition, int, CancellationToken)"/>, handing each event to <paramref name="onEvent"/>
    /// with its body as UTF-8 JSON instead of text (the envelope's <see cref="RecordedEvent.Data"/> is empty and its
    /// metadata is not read): for readers that decode bodies themselves. Returns how many events were read.
    /// </summary>
    public async Task<int> ReadTailAsync(TailPosition after, int maxCount, Action<RecordedEvent, byte[]> onEvent, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(TailBodiesSql);
        AddTailParameters(command, after, maxCount);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var count = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            var envelope = new RecordedEvent(
                reader.GetInt64(0),
                reader.GetFieldValue<ulong>(1),
                reader.GetString(2),
                reader.GetInt64(3),
                reader.GetGuid(4),
                reader.GetString(5),
                "",
                "{}",
                reader.IsDBNull(7) ? null : reader.GetInt64(7),
                reader.GetFieldValue<DateTimeOffset>(8),
                reader.GetFieldValue<DateTimeOffset>(9));
            onEvent(envelope, reader.GetFieldValue<byte[]>(6));
            count++;
        }
        return count;
    }

    /// <summary>
    /// Where the gap-free tail ends now: every event after it commits later (or is not visible yet), so a reader that
    /// starts here misses nothing from this moment on. <see cref="TailPosition.Start"/> for an empty log.
    /// </summary>
    public async Task<TailPosition> ReadTailEndAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select tx_id, global_position from es.events
             where tx_id < pg_snapshot_xmin(pg_current_snapshot())
             order by tx_id desc, global_position desc
             limit 1
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new TailPosition(reader.GetFieldValue<ulong>(0), reader.GetInt64(1))
            : TailPosition.Start;
    }

    /// <summary>As <see cref="ReadTailAsync(TailPosition, int, CancellationToken)"/>, on the caller's connection and transaction.</summary>
    public static async Task<IReadOnlyList<RecordedEvent>> ReadTailAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, TailPosition after, int maxCount, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(TailSql, connection, transaction);
        AddTailParameters(command, after, maxCount);
        return await EventRows.ReadAsync(command, cancellationToken);
    }

    /// <summary>
    /// True when events after <paramref name="after"/> have committed that the tail cannot return yet, because a
    /// transaction that began writing before them is still open: a reader should look again soon rather than sleep.
    /// </summary>
    public async Task<bool> IsHeldBackAsync(TailPosition after, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await IsHeldBackAsync(connection, null, after, cancellationToken);
    }

    /// <summary>As <see cref="IsHeldBackAsync(TailPosition, CancellationToken)"/>, on the caller's connection and transaction.</summary>
    public static async Task<bool> IsHeldBackAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, TailPosition after, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "select exists (select from es.events where (tx_id, global_position) > ($1, $2))", connection, transaction);
        AddPosition(command, after);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// Events after <paramref name="fromGlobalPositionExclusive"/> in global-position order. Positions are taken before
    /// commit, so while writers are active a later read can still find lower positions: live readers use the tail.
    /// </summary>
    public async Task<IReadOnlyList<RecordedEvent>> ReadAllForwardAsync(long fromGlobalPositionExclusive, int maxCount, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        await using var command = dataSource.CreateCommand(
            "select " + EventRows.Columns + " from es.events where global_position > $1 order by global_position limit $2");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = fromGlobalPositionExclusive });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxCount });
        return await EventRows.ReadAsync(command, cancellationToken);
    }

    /// <summary>
    /// Every event of the streams whose ids start with <paramref name="streamIdPrefix"/>, committed at or before
    /// <paramref name="upTo"/>, in commit order: the control events (such as policies) a reader resuming there must know.
    /// </summary>
    public async Task<IReadOnlyList<RecordedEvent>> ReadStreamsUpToAsync(string streamIdPrefix, TailPosition upTo, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select " + EventRows.Columns + """
             from es.events
            where stream_id = any(array(select stream_id from es.streams where starts_with(stream_id, $1)))
              and (tx_id, global_position) <= ($2, $3)
            order by tx_id, global_position
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = streamIdPrefix });
        AddPosition(command, upTo);
        return await EventRows.ReadAsync(command, cancellationToken);
    }

    static void AddTailParameters(NpgsqlCommand command, TailPosition after, int maxCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        AddPosition(command, after);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxCount });
    }

    static void AddPosition(NpgsqlCommand command, TailPosition after)
    {
        command.Parameters.Add(new NpgsqlParameter<ulong> { TypedValue = after.TxId, NpgsqlDbType = NpgsqlDbType.Xid8 });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = after.GlobalPosition });
    }
}
