using Npgsql;
using Streaming.Cli;
using Streaming.EventStore;
using Streaming.Tests.EventStore;

namespace Streaming.Tests.Infrastructure;

/// <summary>
/// A store sharded over two PostgreSQL clusters of the test's own (<see cref="PrivatePostgres"/>, each on a port of its
/// own, which a test may stop and start), a log of <see cref="Partitions"/> partitions (shard 0 holds the even ones and
/// the control streams' home, shard 1 the odd ones), and the <see cref="StoreShards"/> over them. As a class fixture both
/// are migrated with every service's migrations, as a process of <c>Store:Shards</c> = 2 migrates them; a test that lets
/// a service migrate calls <see cref="StartAsync"/> alone.
/// </summary>
public sealed class TwoShardStore : IAsyncLifetime
{
    public const int Partitions = PartitionedDatabase.Partitions;

    readonly PrivatePostgres[] _servers = [new(), new()];
    NpgsqlDataSource? _home;

    public static ShardMap Map { get; } = new(2, Partitions);

    public static LogPartitioner Partitioner => PartitionedDatabase.Partitioner;

    public StoreShards Shards { get; private set; } = null!;

    /// <summary>The shard a job's stream and rows live on.</summary>
    public static int ShardOf(string jobId) => Map.ShardOf(Partitioner.PartitionOf(jobId));

    public PrivatePostgres Server(int shard) => _servers[shard];

    public NpgsqlDataSource Shard(int shard) => Shards.DataSource(shard);

    /// <summary>
    /// Both shards' events of <paramref name="types"/> (shard 1's copies of the control partition left out), merged by the
    /// time each commit was recorded (one machine, one clock), then by shard and position.
    /// </summary>
    public async Task<List<(string Type, string Data)>> CommittedEventsAsync(string[] types)
    {
        var events = new List<(DateTimeOffset At, int Shard, long Position, string Type, string Data)>();
        foreach (var shard in Enumerable.Range(0, 2))
        {
            events.AddRange((await new StoreProbe(Shard(shard)).CommittedEventsAsync(types, controlPartition: shard == 0))
                .Select(e => (e.At, shard, e.Position, e.Type, e.Data)));
        }
        return [.. events.OrderBy(e => e.At).ThenBy(e => e.Shard).ThenBy(e => e.Position).Select(e => (e.Type, e.Data))];
    }

    /// <summary>Starts both servers, unmigrated.</summary>
    public async Task StartAsync()
    {
        await Task.WhenAll(_servers.Select(server => server.StartAsync()));
        _home = NpgsqlDataSource.Create(_servers[0].ConnectionString);
        Shards = new StoreShards(Map, [_home, NpgsqlDataSource.Create(_servers[1].ConnectionString)]);
    }

    public async Task InitializeAsync()
    {
        await StartAsync();
        foreach (var shard in Shards.All)
        {
            await EventStoreSchema.MigrateAsync(shard, StoreSchema.ServiceMigrations, Partitioner, CancellationToken.None);
        }
    }

    public async Task DisposeAsync()
    {
        if (Shards is not null)
        {
            await Shards.DisposeAsync();
        }
        if (_home is not null)
        {
            await _home.DisposeAsync();
        }
        await Task.WhenAll(_servers.Select(server => server.DisposeAsync().AsTask()));
    }
}
