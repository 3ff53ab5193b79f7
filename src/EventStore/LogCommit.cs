using Npgsql;

namespace Streaming.EventStore;

/// <summary>
/// How an appending transaction records its commit in the log's commit order (README, Architecture): it promises to
/// before its first append, and records it as its last statement. A transaction that appends without the promise gets
/// its commit recorded by the store's deferred trigger when it commits.
/// </summary>
public static class LogCommit
{
    // set local, not set_config(): it returns no rows, so it can lead a batch whose reader starts at the next command.
    const string PromiseSql = "set local es.records_commit = 'on'";

    const string RecordSql = "select commit, committed_at from es.record_commit()";

    /// <summary>The promise, as a command to put first in the transaction's first batch; it returns no rows.</summary>
    public static NpgsqlBatchCommand PromiseCommand() => new(PromiseSql);

    /// <summary>Promises that the transaction records its commit; call it before the transaction appends anything.</summary>
    public static async Task PromiseAsync(NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(PromiseSql, Connection(transaction), transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Records the transaction's commit and wakes the log's listeners on commit: the transaction's last statement before
    /// it commits, since it holds the log's head until then. Returns the commit number, or null when the transaction
    /// appended nothing (nothing is recorded).
    /// </summary>
    public static async Task<long?> RecordAsync(NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(RecordSql, Connection(transaction), transaction);
        return await command.ExecuteScalarAsync(cancellationToken) as long?;
    }

    /// <summary>
    /// Records the transaction's commit and commits it, in one round trip, after <paramref name="lastWrite"/> if any (a
    /// statement returning no rows): the record holds the log's head from the moment it is taken until the commit, so
    /// no other appender waits for this client's next message. Returns the commit number, or null when the transaction
    /// appended nothing. A failure of any of them rolls the transaction back.
    /// </summary>
    public static async Task<long?> RecordAndCommitAsync(NpgsqlTransaction transaction, NpgsqlBatchCommand? lastWrite, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(Connection(transaction), transaction);
        if (lastWrite is not null)
        {
            batch.BatchCommands.Add(lastWrite);
        }
        batch.BatchCommands.Add(new(RecordSql));
        batch.BatchCommands.Add(new("commit"));
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        long? commit = await reader.ReadAsync(cancellationToken) && !reader.IsDBNull(0) ? reader.GetInt64(0) : null;
        while (await reader.NextResultAsync(cancellationToken))
        {
        }
        return commit;
    }

    /// <summary>Records the transaction's commit and commits it, in one round trip (see the other overload).</summary>
    public static Task<long?> RecordAndCommitAsync(NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        RecordAndCommitAsync(transaction, null, cancellationToken);

    static NpgsqlConnection Connection(NpgsqlTransaction transaction) =>
        transaction.Connection ?? throw new InvalidOperationException("The transaction is already completed");
}
