using Npgsql;

namespace Streaming.Chaos.Environment;

/// <summary>
/// A PostgreSQL cluster of the suite's own (<c>scripts/postgres.sh</c>), which it may stop and start again mid-run
/// without touching any other; each run gets a fresh database on it.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    readonly string _repositoryRoot;
    readonly string _directory;
    readonly int _port;

    PostgresCluster(string repositoryRoot, string directory, int port, string connectionString)
    {
        _repositoryRoot = repositoryRoot;
        _directory = directory;
        _port = port;
        ConnectionString = connectionString;
    }

    /// <summary>The server's own database, for creating and dropping the runs' databases.</summary>
    public string ConnectionString { get; }

    public static async Task<PostgresCluster> StartAsync(string repositoryRoot, string directory)
    {
        var port = FreePort.Next();
        var connectionString = await Script.RunAsync(repositoryRoot, "scripts/postgres.sh", "start", directory, port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new PostgresCluster(repositoryRoot, directory, port, connectionString);
    }

    /// <summary>Stops the server as an operator would (<c>pg_ctl stop -m fast</c>): every connection is closed.</summary>
    public Task StopAsync() => Script.RunAsync(_repositoryRoot, "scripts/postgres.sh", "stop", _directory);

    public async Task RestartAsync()
    {
        await Script.RunAsync(_repositoryRoot, "scripts/postgres.sh", "start", _directory, _port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // The suite's own pooled connections died with the server.
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"drop database if exists {name} with (force)", connection);
            await drop.ExecuteNonQueryAsync();
            await using var create = new NpgsqlCommand($"create database {name}", connection);
            await create.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await Script.RunAsync(_repositoryRoot, "scripts/postgres.sh", "remove", _directory);
    }
}
