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
