using Npgsql;
using Streaming.EventStore;

namespace Streaming.Tests.EventStore;

/// <summary>
/// An open transaction that appended to a job of one log partition and recorded its commit there, so it holds that
/// partition's head until it is rolled back (on dispose).
/// </summary>
internal sealed class HeldPartitionHead : IAsyncDisposable
{
    readonly NpgsqlConnection _connection;
    readonly NpgsqlTransaction _transaction;

    HeldPartitionHead(NpgsqlConnection connection, NpgsqlTransaction transaction) => (_connection, _transaction) = (connection, transaction);

    /// <summary>Whether the holding transaction's connection is still open (the transaction has not ended on its own).</summary>
    public bool Holding => _connection.State == System.Data.ConnectionState.Open;

    public static async Task<HeldPartitionHead> TakeAsync(NpgsqlDataSource dataSource, int partition)
    {
        var connection = await dataSource.OpenConnectionAsync();
        var transaction = await connection.BeginTransactionAsync();
        await LogCommit.PromiseAsync(transaction, CancellationToken.None);
        await new EventStreams(dataSource).AppendToStreamAsync(
            transaction, PartitionedDatabase.JobIn(partition), ExpectedVersion.Any, SampleEvents.Events(1), CancellationToken.None);
        if (await LogCommit.RecordAsync(transaction, CancellationToken.None) is null)
        {
            throw new InvalidOperationException("the holding transaction recorded no commit");
        }
        return new HeldPartitionHead(connection, transaction);
    }

    public async ValueTask DisposeAsync()
    {
        await _transaction.RollbackAsync();
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
