using Npgsql;
using Streaming.Bench.Pipeline;
using Streaming.EventStore;
using Streaming.Projections.History;
using Streaming.Promoter.Decisions;

namespace Streaming.Bench.Scale;

/// <summary>
/// A fresh store for one measurement: a database of the same name made anew on each shard's PostgreSQL cluster, and the
/// bench's view of it (its queries run with the bench's application name, so their backends count apart).
/// </summary>
public sealed class ScaleStore : IAsyncDisposable
{
    readonly List<NpgsqlDataSource> _shards;

    ScaleStore(string database, List<string> connectionStrings, List<NpgsqlDataSource> shards)
    {
        Database = database;
        ConnectionStrings = connectionStrings;
        _shards = shards;
    }

    public string Database { get; }

    /// <summary>Each shard's connection string, shard 0 first, as the services are given them.</summary>
    public IReadOnlyList<string> ConnectionStrings { get; }

    public IReadOnlyList<NpgsqlDataSource> Shards => _shards;

    public static async Task<ScaleStore> CreateAsync(IReadOnlyList<string> clusters, string database, CancellationToken cancellationToken)
    {
        var connectionStrings = new List<string>();
        var shards = new List<NpgsqlDataSource>();
        foreach (var cluster in clusters)
        {
            await using (var admin = BenchDatabases.Probe(cluster))
            {
                await BenchDatabases.RecreateAsync(admin, database, cancellationToken);
            }
            var connectionString = BenchDatabases.On(cluster, database);
            connectionStrings.Add(connectionString);
            shards.Add(BenchDatabases.Probe(connectionString));
        }
        return new ScaleStore(database, connectionStrings, shards);
    }

    public async Task WaitForSchemaAsync(CancellationToken cancellationToken)
    {
        foreach (var shard in _shards)
        {
            await AllInOneRun.WaitForSchemaAsync(shard, cancellationToken);
        }
    }

    /// <summary>The next offset Ingest will consume, per partition, as far as it has stored (each partition on its own shard).</summary>
    public async Task<IReadOnlyDictionary<int, long>> StoredOffsetsAsync(CancellationToken cancellationToken)
    {
        var stored = new Dictionary<int, long>();
        foreach (var shard in _shards)
        {
            foreach (var (partition, offset) in await AllInOneRun.StoredOffsetsAsync(shard, cancellationToken))
            {
                stored[partition] = Math.Max(offset, stored.GetValueOrDefault(partition));
            }
        }
        return stored;
    }

    public async Task<long> StoredAsync(CancellationToken cancellationToken) =>
        (await StoredOffsetsAsync(cancellationToken)).Values.Sum();

    /// <summary>
    /// Waits until, on every shard, the job-state projection and the Promoter's decisions have a checkpoint in every
    /// partition holding events and have read all of them, and the history archive is less than a block behind
    /// wherever it has a checkpoint (it saves one only once a partition holds a whole block).
    /// </summary>
    public async Task WaitForCurrentAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var current = $"""
            select (select count(distinct partition) from es.commits) * 2
                   = (select count(*) from es.checkpoints c
                       where (c.name like 'projector:job-states:g%' or c.name = '{DecisionFold.CheckpointName}')
                         and not exists (select from {UnreadEvents.After("c", 1)}))
               and not exists (select from es.checkpoints c
                                where c.name = '{HistoryArchive.CheckpointName}'
                                  and (select count(*) from {UnreadEvents.After("c", 2000)}) >= 2000)
            """;
        var deadline = DateTime.UtcNow + timeout;
        foreach (var shard in _shards)
        {
            while (true)
            {
                await using var command = shard.CreateCommand(current);
                if (await command.ExecuteScalarAsync(cancellationToken) is true)
                {
                    break;
                }
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"the folds of {shard.ConnectionString} did not catch up within {timeout.TotalMinutes:0} minutes");
                }
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    /// <summary>The query's count on each shard, shard 0 first.</summary>
    public async Task<long[]> CountAsync(string sql, CancellationToken cancellationToken)
    {
        var counts = new long[_shards.Count];
        for (var s = 0; s < _shards.Count; s++)
        {
            counts[s] = await AllInOneRun.ScalarAsync(_shards[s], sql, cancellationToken);
        }
        return counts;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var shard in _shards)
        {
            await shard.DisposeAsync();
        }
    }
}
