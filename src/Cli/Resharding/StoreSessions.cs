using System.Globalization;
using Npgsql;
using Streaming.EventStore;

namespace Streaming.Cli.Resharding;

/// <summary>
/// Keeps the services away while partitions move: refuses when any other session is connected to a shard's database
/// (the services name theirs after themselves), and holds each shard's schema-migration lock, which every service takes
/// as it starts, so a service started meanwhile waits until the move is over.
/// </summary>
public static class StoreSessions
{
    /// <summary>The application name of the tool's own sessions, which the check leaves out.</summary>
    public const string ApplicationName = "streaming-reshard";

    public static async Task RefuseOthersAsync(IReadOnlyList<NpgsqlDataSource> shards, CancellationToken cancellationToken)
    {
        var others = new List<string>();
        for (var shard = 0; shard < shards.Count; shard++)
        {
            await using var command = shards[shard].CreateCommand("""
                select coalesce(nullif(application_name, ''), 'unnamed'), pid, coalesce(host(client_addr), 'local')
                  from pg_stat_activity
                 where datname = current_database() and backend_type = 'client backend'
                   and pid <> pg_backend_pid() and application_name is distinct from $1
                 order by 1, 2
                """);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ApplicationName });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                others.Add(string.Create(CultureInfo.InvariantCulture, $"shard {shard}: {reader.GetString(0)} (pid {reader.GetInt32(1)}, {reader.GetString(2)})"));
            }
        }
        if (others.Count > 0)
        {
            throw new CommandFailedException(
                $"stop every service before resharding: {others.Count} other session(s) are connected to the store: {string.Join("; ", others)}");
        }
    }

    /// <summary>Takes each shard's migration lock on a session of its own, held until the returned sessions are disposed.</summary>
    public static async Task<IAsyncDisposable> HoldMigrationLocksAsync(IReadOnlyList<NpgsqlDataSource> shards, CancellationToken cancellationToken)
    {
        var held = new HeldSessions();
        try
        {
            foreach (var shard in shards)
            {
                var connection = await shard.OpenConnectionAsync(cancellationToken);
                held.Add(connection);
                await using var command = new NpgsqlCommand($"select pg_try_advisory_lock({EventStoreSchema.MigrationLockId})", connection);
                if (await command.ExecuteScalarAsync(cancellationToken) is not true)
                {
                    throw new CommandFailedException("a service is starting (it holds a shard's migration lock): stop every service before resharding");
                }
            }
            return held;
        }
        catch
        {
            await held.DisposeAsync();
            throw;
        }
    }

    sealed class HeldSessions : IAsyncDisposable
    {
        readonly List<NpgsqlConnection> _connections = [];

        public void Add(NpgsqlConnection connection) => _connections.Add(connection);

        public async ValueTask DisposeAsync()
        {
            foreach (var connection in _connections)
            {
                await connection.DisposeAsync();
            }
        }
    }
}
