using Streaming.EventStore;
using Streaming.Ingest.Appending;
using Streaming.Ingest.DeadLetters;

namespace Streaming.Ingest.Consuming;

/// <summary>
/// Ingest's append transaction: stores a batch's signals and offsets (<see cref="SignalLog"/>), puts its rejects on the
/// dead-letter topic, then commits, so every message is stored or dead-lettered before its offset is. A rerun after a
/// stream-order conflict publishes the rejects again (at least once). A batch is written on one shard, in a transaction
/// of that shard only.
/// </summary>
sealed class SignalBatchWriter(SignalShards shards, DeadLetterPublisher deadLetters, bool asynchronousCommit)
{
    /// <summary>Writes one batch on <paramref name="shard"/>; <paramref name="attempt"/> keeps the outcome reached before the commit.</summary>
    public Task WriteAsync(int shard, SignalBatch batch, BatchAttempt attempt, CancellationToken cancellationToken) =>
        ConflictRetry.RunAsync(async () =>
        {
            await using var connection = await shards.DataSource(shard).OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var append = await shards.Log(shard).AppendSignalsAsync(transaction, batch.Signals, batch.Offsets, cancellationToken, asynchronousCommit);
            var letters = batch.DeadLetters(append.Result);
            await deadLetters.PublishAsync(letters, cancellationToken);
            attempt.Outcome = (append.Result, letters);
            // Last, after the dead letters are out: the commit record holds the log's head until the commit.
            await append.RecordAndCommitAsync(transaction, cancellationToken);
            return true;
        }, cancellationToken);
}
