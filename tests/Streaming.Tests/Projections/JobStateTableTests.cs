using Npgsql;
using Streaming.Cli;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.Projector.JobStates;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;

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
            await JobStateRows.From([new("fresh-job", fresh), new("promoted-job", promoted)], _ => new JobContext(DefaultPolicies.CdcMigration, []))
                .WriteAsync(transaction, generation, CancellationToken.None);
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

    [Fact]
    public async Task A_flush_writes_its_rows_in_one_statement_and_leaves_no_table_behind()
    {
        // Given a job held by known issues whose ids an operator chose (quotes, a backslash, a comma, braces)
        var generation = await new JobStateGenerations(database.DataSource).EnsureActiveAsync(CancellationToken.None);
        var job = new JobStateView(JobLifecycleDecider.Initial("issue-job"), new Dictionary<string, string> { ["team"] = "billing" }, null, null, 4);
        string[] issues = ["say \"hi\"", "back\\slash", "a,b", "{braces}"];
        await using var connection = await database.DataSource.OpenConnectionAsync();

        // When it is written twice (inserted, then updated with a later stream version), each in its own transaction
        var temporaryTables = new List<long>();
        foreach (var version in new long[] { 4, 9 })
        {
            var next = JobStateRows.From([new("issue-job", job with { StreamVersion = version })], _ => new JobContext(DefaultPolicies.CdcMigration, issues));
            await using var transaction = await connection.BeginTransactionAsync();
            await next.WriteAsync(transaction, generation, CancellationToken.None);
            await using var tables = new NpgsqlCommand("select count(*) from pg_class where relnamespace = pg_my_temp_schema()", connection, transaction);
            temporaryTables.Add((long)(await tables.ExecuteScalarAsync())!);
            await transaction.CommitAsync();
        }

        // Then no write made a table of its own, and the row holds the last version and every flag as written
        await using var read = new NpgsqlCommand(
            "select stream_version, flags from projections.job_states where job_id = 'issue-job'", connection);
        await using (var reader = await read.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal(9, reader.GetInt64(0));
            var flags = reader.GetFieldValue<string[]>(1);
            Assert.Equal([.. issues.Select(id => "known-issue:" + id)], flags.Where(f => f.StartsWith("known-issue:", StringComparison.Ordinal)));
        }
        Assert.Equal([0L, 0L], temporaryTables);
    }

    [Fact]
    public async Task An_active_generation_in_an_earlier_row_format_is_replaced_by_a_new_one_filled_from_the_log()
    {
        var database = new TestDatabase();
        await database.InitializeAsync();
        try
        {
            // Given a database whose active generation was written by an earlier build (state as JSON, no lifecycle column)
            await using (var legacy = database.DataSource.CreateCommand("""
                create schema projections;
                create table projections.generations (projection text not null, generation int not null, state text not null,
                    created_at timestamptz not null default now(), activated_at timestamptz, primary key (projection, generation));
                insert into projections.generations values ('job_states', 7, 'active', now(), now());
                create table projections.job_states_g7 (job_id text primary key, state jsonb not null);
                insert into projections.job_states_g7 values ('job-1', '{}');
                """))
            {
                await legacy.ExecuteNonQueryAsync();
            }

            // When the projector starts (schema migrations first, as every process does)
            await StoreSchema.MigrateAsync(database.DataSource, CancellationToken.None);
            var active = await new JobStateGenerations(database.DataSource).EnsureActiveAsync(CancellationToken.None);

            // Then a new, empty generation in this build's format is active, and the old one is retired with its rows kept
            Assert.Equal(8, active.Number);
            await using var generations = database.DataSource.CreateCommand(
                "select string_agg(generation || ':' || state, ',' order by generation) from projections.generations");
            Assert.Equal("7:retired,8:active", (string)(await generations.ExecuteScalarAsync())!);
            await using var rows = database.DataSource.CreateCommand(
                "select (select count(*) from projections.job_states) || '/' || (select count(*) from projections.job_states_g7)");
            Assert.Equal("0/1", (string)(await rows.ExecuteScalarAsync())!);
        }
        finally
        {
            await database.DisposeAsync();
        }
    }
}
