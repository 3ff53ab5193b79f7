using Npgsql;
using Streaming.Tests.EventStore;

namespace Streaming.Tests.Ingest;

/// <summary>Rows locked by a transaction of the test's own (<c>select … for update</c>), held until released or disposed.</summary>
sealed class HeldRows : IAsyncDisposable
{
    readonly MigratedDatabase _database;
    readonly NpgsqlConnection _connection;
    readonly NpgsqlTransaction _transaction;

    HeldRows(MigratedDatabase database, NpgsqlConnection connection, NpgsqlTransaction transaction) =>
        (_database, _connection, _transaction) = (database, connection, transaction);

    /// <summary>Locks the rows <paramref name="lockingQuery"/> selects <c>for update</c>.</summary>
    public static async Task<HeldRows> LockAsync(MigratedDatabase database, string lockingQuery)
    {
        var connection = await database.DataSource.OpenConnectionAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand(lockingQuery, connection, transaction))
        {
            await hold.ExecuteNonQueryAsync();
        }
        return new HeldRows(database, connection, transaction);
    }

    /// <summary>Whether another session waits for this one's locks.</summary>
    public async Task<bool> BlockAnotherAsync()
    {
        await using var command = _database.DataSource.CreateCommand("select exists (select from pg_stat_activity where $1 = any(pg_blocking_pids(pid)))");
        command.Parameters.AddWithValue(_connection.ProcessID);
        return (bool)(await command.ExecuteScalarAsync())!;
    }

    public Task ReleaseAsync() => _transaction.RollbackAsync();

    public async ValueTask DisposeAsync()
    {
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
