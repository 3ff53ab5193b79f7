using Npgsql;
using Streaming.EventStore;

namespace Streaming.Ingest.Appending;

/// <summary>
/// A batch of signals appended inside a transaction whose last statement is still to run: the commit record
/// (<see cref="RecordAndCommitAsync"/>); the streams' heads moved already, with their locks.
/// </summary>
public sealed class SignalAppend
{
    // The insert of a small batch's events, sent with the commit record (SignalLog); null when they are written already.
    readonly NpgsqlBatchCommand? _insert;

    internal SignalAppend(SignalBatchResult result, NpgsqlBatchCommand? insert = null)
    {
        Result = result;
        _insert = insert;
    }

    /// <summary>What became of each signal.</summary>
    public SignalBatchResult Result { get; }

    /// <summary>
    /// Writes a small batch's events (held until now), records the transaction's commit (<see cref="LogCommit"/>) and
    /// commits it, in one round trip: the record holds the log's head until the commit. The transaction must end here,
    /// or the batch's events are not stored. Returns the commit number, or null when the transaction appended nothing.
    /// </summary>
    public Task<long?> RecordAndCommitAsync(NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        return LogCommit.RecordAndCommitAsync(transaction, _insert, cancellationToken);
    }
}
