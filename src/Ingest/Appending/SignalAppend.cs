using Npgsql;
using Streaming.EventStore;

namespace Streaming.Ingest.Appending;

/// <summary>
/// A batch of signals appended inside a transaction whose last statements are still to run: the streams' heads move in
/// the same round trip as the commit record (<see cref="RecordCommitAsync"/>).
/// </summary>
public sealed class SignalAppend
{
    readonly NpgsqlBatchCommand? _moveHeads;

    internal SignalAppend(SignalBatchResult result, NpgsqlBatchCommand? moveHeads) => (Result, _moveHeads) = (result, moveHeads);

    /// <summary>What became of each signal.</summary>
    public SignalBatchResult Result { get; }

    /// <summary>
    /// Moves the streams' heads and records the transaction's commit (<see cref="LogCommit"/>), in one round trip: the
    /// transaction's last statements before it commits, since the record holds the log's head until then. Returns the
    /// commit number, or null when the transaction appended nothing.
    /// </summary>
    public async Task<long?> RecordCommitAsync(NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var connection = transaction.Connection ?? throw new InvalidOperationException("The transaction is already completed");
        await using var batch = new NpgsqlBatch(connection, transaction);
        if (_moveHeads is not null)
        {
            batch.BatchCommands.Add(_moveHeads);
        }
        batch.BatchCommands.Add(LogCommit.RecordCommand());
        // The head update returns no rows, so the scalar is the record's.
        return await batch.ExecuteScalarAsync(cancellationToken) as long?;
    }
}
