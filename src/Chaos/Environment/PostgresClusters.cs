namespace Streaming.Chaos.Environment;

/// <summary>The suite's PostgreSQL clusters, one per shard (<c>postgres</c>, <c>postgres-shard1</c>, … in its folder), started together and removed together.</summary>
public sealed class PostgresClusters : IAsyncDisposable
{
    readonly List<PostgresCluster> _clusters;

    PostgresClusters(List<PostgresCluster> clusters) => _clusters = clusters;

    /// <summary>Shard 0's first.</summary>
    public IReadOnlyList<PostgresCluster> All => _clusters;

    public static async Task<PostgresClusters> StartAsync(string repositoryRoot, string workDirectory, int shards)
    {
        var clusters = new PostgresClusters([]);
        try
        {
            for (var shard = 0; shard < shards; shard++)
            {
                clusters._clusters.Add(await PostgresCluster.StartAsync(repositoryRoot, Path.Combine(workDirectory, shard == 0 ? "postgres" : $"postgres-shard{shard}")));
            }
        }
        catch
        {
            await clusters.DisposeAsync();
            throw;
        }
        return clusters;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var cluster in _clusters)
        {
            await cluster.DisposeAsync();
        }
    }
}
