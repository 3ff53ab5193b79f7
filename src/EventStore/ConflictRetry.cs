using Npgsql;

namespace Streaming.EventStore;

/// <summary>Reruns a whole append transaction that lost a stream-order or deadlock conflict; both are rare and brief.</summary>
public static class ConflictRetry
{
    const int MaxAttempts = 20;

    /// <summary>Runs <paramref name="transaction"/> (which opens, writes and commits one) again after a conflict.</summary>
    public static async Task<T> RunAsync<T>(Func<Task<T>> transaction, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await transaction();
            }
            catch (PostgresException e) when (attempt < MaxAttempts && IsConflict(e))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 5 * attempt)), cancellationToken);
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> in a transaction of its own, records its commit in the log's commit order
    /// (<see cref="LogCommit"/>) and commits it, rerunning the whole transaction after a conflict, so
    /// <paramref name="work"/> must do nothing outside it.
    /// </summary>
    public static Task<T> InTransactionAsync<T>(
        NpgsqlDataSource dataSource, Func<NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken) =>
        RunAsync(async () =>
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await LogCommit.PromiseAsync(transaction, cancellationToken);
            var result = await work(transaction);
            await LogCommit.RecordAndCommitAsync(transaction, cancellationToken);
            return result;
        }, cancellationToken);

    public static bool IsConflict(PostgresException e) =>
        e.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected;
}
