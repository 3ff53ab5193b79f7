using Npgsql;
using Streaming.EventStore;

namespace Streaming.Ingest.Appending;

/// <summary>
/// A batch of signals appended inside a transaction whose last statement is still to run: the commit record
/// (<see cref="RecordCommitAsync"/>); the streams' heads moved already, with their locks.
/// </summary>
public sealed class SignalAppend
{
    internal SignalAppend(SignalBatchResult result) => Result = result;

    /// <summary>What became of each signal.</summary>
    public SignalBatchResult Result { get; }

    /// <summary>
    /// Records the transaction's commit (<see cref="LogCommit"/>): the transaction's last statement before it commits,
    /// since the record holds the log's head until then. Returns the commit number, or null when the transaction appended
    /// nothing.
    /// </summary>
    public Task<long?> RecordCommitAsync(NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        return LogCommit.RecordAsync(transaction, cancellationToken);
    }
}
