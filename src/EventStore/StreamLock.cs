using Npgsql;
using NpgsqlTypes;

namespace Streaming.EventStore;

/// <summary>The statement every appending transaction runs before its first write.</summary>
internal static class StreamLock
{
    // The tail reads in (tx_id, global_position) order, so for every stream that order must agree with version order.
    // PostgreSQL assigns a transaction its xid at its first write, in increasing order, and taking an advisory lock
    // assigns none. So each append first locks the buckets of its streams (distinct and ascending, so writers never
    // deadlock) and writes only then: a later writer to the same stream waits for our commit, so it gets both a higher
    // xid and a higher version. The version itself is read from es.streams under that lock.
    public static NpgsqlBatchCommand Command(IEnumerable<string> streamIds) =>
        new("select es.lock_streams($1)")
        {
            Parameters = { new NpgsqlParameter<string[]> { TypedValue = streamIds.Distinct(StringComparer.Ordinal).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text } },
        };

    /// <summary>Wakes the log's listeners once, on commit, if this transaction appended anything.</summary>
    public static NpgsqlBatchCommand NotifyCommand() =>
        new($"""
            select pg_notify('{EventStoreSchema.NotificationChannel}', '')
            from (select from es.events where tx_id = pg_current_xact_id_if_assigned() limit 1) appended
            """);
}
