using Npgsql;
using Streaming.Cli;
using Streaming.EventStore;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Sharding;

/// <summary>
/// A store over two PostgreSQL clusters of the test's own (<see cref="OwnPostgres"/>, each on a port of its own), each
/// with the schema and a log of <see cref="PartitionedDatabase.Partitions"/> partitions: shard 0 holds the even
/// partitions and the control streams' home, shard 1 the odd ones.
/// </summary>
public sealed class TwoShards : IAsyncLifetime
{
    readonly OwnPostgres _home = new();
    readonly OwnPostgres _other = new();

    public static ShardMap Map { get; } = new(2, PartitionedDatabase.Partitions);

    public NpgsqlDataSource Home { get; private set; } = null!;

    public NpgsqlDataSource Other { get; private set; } = null!;

    public string HomeConnectionString => _home.ConnectionString;

    public string OtherConnectionString => _other.ConnectionString;

    public NpgsqlDataSource Shard(int shard) => shard == 0 ? Home : Other;

    public async Task InitializeAsync()
    {
        await Task.WhenAll(_home.InitializeAsync(), _other.InitializeAsync());
        Home = NpgsqlDataSource.Create(_home.ConnectionString);
        Other = NpgsqlDataSource.Create(_other.ConnectionString);
        foreach (var shard in new[] { Home, Other })
        {
            await EventStoreSchema.MigrateAsync(shard, StoreSchema.ServiceMigrations, PartitionedDatabase.Partitioner, CancellationToken.None);
        }
    }

    public async Task DisposeAsync()
    {
        await Home.DisposeAsync();
        await Other.DisposeAsync();
        await Task.WhenAll(_home.DisposeAsync(), _other.DisposeAsync());
    }
}
