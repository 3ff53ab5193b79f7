using Npgsql;
using Streaming.Api.Fleet;
using Streaming.Api.Jobs;
using Streaming.Api.Policies;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.Projector.JobStates;

namespace Streaming.Tests.Surface;

/// <summary>A job's row written as the Projector writes it, and the job's page read as the API reads it, on one store.</summary>
static class JobPage
{
    public static async Task WriteRowAsync(NpgsqlDataSource dataSource, JobStateView written, LifecyclePolicy? policy)
    {
        var generation = await new JobStateGenerations(dataSource).EnsureActiveAsync(CancellationToken.None);
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await JobStateRows.From([new(written.Lifecycle.JobId, written)], _ => new JobContext(policy, [])).WriteAsync(transaction, generation, CancellationToken.None);
        await transaction.CommitAsync();
    }

    public static Task<JobDetail?> ReadAsync(NpgsqlDataSource dataSource, string jobId)
    {
        var catalog = new PolicyCatalog(dataSource);
        return new JobQueries(StoreShards.Single(dataSource), catalog, new GateQueries(StoreShards.Single(dataSource), catalog))
            .DetailAsync(jobId, CancellationToken.None);
    }
}
