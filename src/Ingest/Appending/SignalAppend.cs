using Npgsql;
using Streaming.EventStore;

namespace Streaming.Ingest.Appending;

/// <summary>
/// A batch of signals appended inside a transaction whose last statement is still to run: the commit record
/// (<see cref="RecordAndCommitAsync"/>); the streams' heads moved already, with their locks.
/// </summary>
public sealed class SignalAppend
{
    internal SignalAppend(SignalBatchResult result) => Result = result;

    /// <summary>What became of each signal.</summary>
    public SignalBatchResult Result { get; }

    /// <summary>
    /// Records the transaction's commit (<see cref="LogCommit"/>) and commits it, in one round trip: the record holds the
    /// log's head until the commit. Returns the commit number, or null when the transaction appended nothing.
    /// </summary>
    public Task<long?> RecordAndCommitAsync(NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        return LogCommit.RecordAndCommitAsync(transaction, cancellationToken);
    }
}
