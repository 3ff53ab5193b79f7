using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.Projector.JobStates;
using Streaming.Tests.EventStore;

namespace Streaming.Tests.Projections;

public sealed class JobStateTableTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>
{
    static readonly DateTimeOffset Start = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_batch_mixing_jobs_with_and_without_timestamps_is_saved_and_loaded_back()
    {
        // Given a job never decided on (no timestamps yet) ahead of one that was promoted, in the same flush
        var generation = await new JobStateGenerations(database.DataSource).EnsureActiveAsync(CancellationToken.None);
        var fresh = new JobStateView(JobLifecycleDecider.Initial("fresh-job"), new Dictionary<string, string>(), null, null, 0);
        var promoted = new JobStateView(
            JobLifecycleDecider.Initial("promoted-job"), new Dictionary<string, string> { ["team"] = "orders" }, "promote", Start.AddMinutes(31), 33);

        // When both are saved in one statement
        await using (var connection = await database.DataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await JobStateTable.SaveAsync(
                transaction, generation, [new("fresh-job", fresh), new("promoted-job", promoted)], DefaultPolicies.CdcMigration, CancellationToken.None);
            await transaction.CommitAsync();
        }

        // Then both rows are there, the timestamps as given
        await using (var connection = await database.DataSource.OpenConnectionAsync())
        {
            var loaded = await JobStateTable.LoadAsync(connection, generation, ["fresh-job", "promoted-job"], CancellationToken.None);
            Assert.Null(loaded["fresh-job"].LastChangedAt);
            Assert.Equal(Start.AddMinutes(31), loaded["promoted-job"].LastChangedAt);
        }
        await using var command = database.DataSource.CreateCommand(
            "select last_changed_at from projections.job_states where job_id = 'promoted-job'");
        Assert.Equal(Start.AddMinutes(31).UtcDateTime, (DateTime)(await command.ExecuteScalarAsync())!);
    }
}
