using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Lifecycle;
using Streaming.Projector.JobStates;
using Streaming.Tests.EventStore;

namespace Streaming.Tests.Projections;

public sealed class JobStateStatisticsTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>
{
    [Fact]
    public async Task The_partitioned_job_states_get_planner_statistics_which_are_refreshed_only_when_the_jobs_moved_by_a_tenth()
    {
        // Given an active generation with 50 jobs, and no statistics on the partitioned table (autovacuum never makes them)
        var generation = await new JobStateGenerations(database.DataSource).EnsureActiveAsync(CancellationToken.None);
        await WriteJobsAsync(generation, 0, 50);
        Assert.Equal(0L, await ParentStatisticsAsync());
        var statistics = new JobStateStatistics(database.DataSource, NullLogger<JobStateStatistics>.Instance);

        // When the Projector's statistics round runs, the parent is analyzed: the planner knows its columns
        Assert.True(await statistics.RefreshAsync(CancellationToken.None));
        Assert.True(await ParentStatisticsAsync() > 0);

        // And a round with the same jobs does nothing, nor one with 4 more (under a tenth)
        Assert.False(await statistics.RefreshAsync(CancellationToken.None));
        await WriteJobsAsync(generation, 50, 4);
        Assert.False(await statistics.RefreshAsync(CancellationToken.None));

        // But 10 more jobs (past a tenth) are analyzed again
        await WriteJobsAsync(generation, 54, 10);
        Assert.True(await statistics.RefreshAsync(CancellationToken.None));
    }

    async Task WriteJobsAsync(JobStateGeneration generation, int first, int count)
    {
        var rows = Enumerable.Range(first, count)
            .Select(i => $"stats-job-{i}")
            .Select(id => new KeyValuePair<string, JobStateView>(id, new JobStateView(
                JobLifecycleDecider.Initial(id), new Dictionary<string, string> { ["team"] = "orders" }, null, null, 1)));
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await JobStateRows.From([.. rows], _ => new JobContext(DefaultPolicies.CdcMigration, [])).WriteAsync(transaction, generation, CancellationToken.None);
        await transaction.CommitAsync();
    }

    async Task<long> ParentStatisticsAsync()
    {
        await using var command = database.DataSource.CreateCommand(
            "select count(*) from pg_stats where schemaname = 'projections' and tablename = 'job_state_rows'");
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
