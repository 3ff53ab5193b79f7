using Npgsql;
using Streaming.Cli;
using Streaming.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.EventStore;

/// <summary>
/// A test database with the event store's schema in place; shared by the tests of one class, or one test's own
/// (<c>await using</c>) when what it checks is store-wide.
/// </summary>
public sealed class MigratedDatabase : IAsyncLifetime, IAsyncDisposable
{
    readonly TestDatabase _database = new();

    public NpgsqlDataSource DataSource => _database.DataSource;

    public string ConnectionString => _database.ConnectionString;

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        await StoreSchema.MigrateAsync(DataSource, CancellationToken.None);
    }

    public Task DisposeAsync() => _database.DisposeAsync();

    ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());
}
