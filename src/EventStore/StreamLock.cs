using Npgsql;
using NpgsqlTypes;

namespace Streaming.EventStore;

/// <summary>The statement every append runs before it writes events.</summary>
internal static class StreamLock
{
    // The tail reads in commit order, so for every stream that order must agree with version order. Each append therefore
    // first locks its streams' rows in es.streams (sorted, so writers never deadlock, and creating rows for new streams)
    // and reads the version under that lock; the lock is held until commit, and the commit is recorded last (LogCommit),
    // so whoever appends version v+1 records its commit after whoever appended v has committed. Row locks, unlike
    // advisory locks on hash buckets, let batches for disjoint streams run in parallel and need no room in the server's
    // shared lock table.
    public static NpgsqlBatchCommand Command(IEnumerable<string> streamIds) =>
        new("select es.lock_streams($1)")
        {
            Parameters = { new NpgsqlParameter<string[]> { TypedValue = streamIds.Distinct(StringComparer.Ordinal).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text } },
        };

    /// <summary>
    /// Ingest's way to the same lock, cheaper when the streams exist (the usual case): locks their rows in order
    /// (<c>for no key update</c>, all the head update needs) and returns each head. The fourth column (whether a later
    /// writer appended, which transaction-id order had to refuse) is always false since positions follow commits. Rows of
    /// new streams are created next (<see cref="CreateSql"/>), in order, then locked the same way.
    /// </summary>
    public const string HeadsSql = """
        select stream_id, version, last_seq, false
        from es.streams where stream_id = any($1) order by stream_id for no key update
        """;

    /// <summary>Creates the rows of new streams, in order.</summary>
    public const string CreateSql = """
        insert into es.streams (stream_id, version, last_tx_id)
        select s, 0, pg_current_xact_id() from unnest($1::text[]) s order by s
        on conflict (stream_id) do nothing
        """;

    /// <summary>What <c>es.lock_streams</c> raises when a later writer appended first: rerun the transaction.</summary>
    public static PostgresException LaterWriter() =>
        new("a transaction that began writing later has appended to one of these streams; retry", "ERROR", "ERROR", PostgresErrorCodes.SerializationFailure);

    /// <summary>Wakes the log's listeners once, on commit, if this transaction appended anything.</summary>
    public static NpgsqlBatchCommand NotifyCommand() =>
        new($"""
            select pg_notify('{EventStoreSchema.NotificationChannel}', '')
            from (select from es.events where tx_id = pg_current_xact_id_if_assigned() limit 1) appended
            """);
}
