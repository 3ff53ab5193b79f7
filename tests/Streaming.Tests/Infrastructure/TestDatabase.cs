using Npgsql;

namespace Streaming.Tests.Infrastructure;

/// <summary>
/// A fresh, empty PostgreSQL database for one test class, created on the server named by
/// <c>STREAMING_TEST_POSTGRES</c> and dropped afterwards.
/// </summary>
public sealed class TestDatabase : IAsyncLifetime
{
    public const string ServerVariable = "STREAMING_TEST_POSTGRES";

    string? _adminConnectionString;
    string? _name;
    NpgsqlDataSource? _dataSource;

    public NpgsqlDataSource DataSource => _dataSource ?? throw new InvalidOperationException("The test database is not created yet");

    public string ConnectionString { get; private set; } = "";

    public string Name => _name ?? throw new InvalidOperationException("The test database is not created yet");

    /// <summary>Runs <paramref name="test"/> against a database of its own, dropped afterwards.</summary>
    public static async Task UseFreshAsync(Func<NpgsqlDataSource, Task> test)
    {
        var database = new TestDatabase();
        await database.InitializeAsync();
        try
        {
            await test(database.DataSource);
        }
        finally
        {
            await database.DisposeAsync();
        }
    }

    public async Task InitializeAsync()
    {
        _adminConnectionString = Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } server
            ? server
            : throw new InvalidOperationException(
                $"The environment variable {ServerVariable} must hold a connection string to a PostgreSQL server where tests may create " +
                "and drop databases, e.g. Host=127.0.0.1;Port=5432;Username=postgres;Database=postgres");
        _name = "es_test_" + Guid.NewGuid().ToString("N");
        await ExecuteAsAdminAsync($"create database {_name}");
        ConnectionString = new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = _name }.ConnectionString;
        _dataSource = NpgsqlDataSource.Create(ConnectionString);
    }

    public async Task DisposeAsync()
    {
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync();
        }
        if (_name is not null)
        {
            await ExecuteAsAdminAsync($"drop database if exists {_name} with (force)");
        }
    }

    async Task ExecuteAsAdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
