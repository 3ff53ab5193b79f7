using System.Globalization;
using Npgsql;

namespace Streaming.Projector.JobStates;

/// <summary>
/// Blue/green generations of the job-state projection. Each generation has its own table
/// (<c>projections.job_states_g{n}</c>) and checkpoint; readers use the view <c>projections.job_states</c>, which
/// points at the active one. A rebuild fills a new generation while the active one keeps serving, then switches the
/// view in one transaction.
/// </summary>
public sealed class JobStateGenerations(NpgsqlDataSource dataSource)
{
    const long SchemaLock = 7305001;

    public async Task<JobStateGeneration> EnsureActiveAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, transaction, "select pg_advisory_xact_lock(" + SchemaLock + ")", cancellationToken);
        await ExecuteAsync(connection, transaction, """
            create schema if not exists projections;
            create table if not exists projections.generations (
                projection text not null,
                generation int not null,
                state text not null check (state in ('building', 'active', 'retired')),
                created_at timestamptz not null default now(),
                activated_at timestamptz,
                primary key (projection, generation));
            create unique index if not exists generations_one_active on projections.generations (projection) where state = 'active';
            """, cancellationToken);
        var active = await FindAsync(connection, transaction, "active", cancellationToken);
        if (active is not null && await HasCurrentColumnsAsync(connection, transaction, active, cancellationToken))
        {
            // The views as this build defines them (an earlier build may have defined fewer columns).
            await PointViewsAtAsync(connection, transaction, active, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return active;
        }
        if (active is not null)
        {
            // Written by an earlier build in another row format: start a generation in this one, filled live from the log.
            await ExecuteAsync(connection, transaction,
                "update projections.generations set state = 'retired' where projection = 'job_states' and state in ('active', 'building')",
                cancellationToken);
        }
        active = await NextAsync(connection, transaction, cancellationToken);
        await CreateTableAsync(connection, transaction, active, cancellationToken);
        await ExecuteAsync(connection, transaction,
            "insert into projections.generations (projection, generation, state, activated_at) values ('job_states', " +
            Number(active.Number) + ", 'active', now())",
            cancellationToken);
        await PointViewsAtAsync(connection, transaction, active, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return active;
    }

    public async Task<JobStateGeneration?> ActiveAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await FindAsync(connection, null, "active", cancellationToken);
    }

    /// <summary>The generation a rebuild fills: the one an interrupted rebuild left, or a new one.</summary>
    public async Task<(JobStateGeneration Generation, bool Resumed)> BuildingAsync(bool fresh, CancellationToken cancellationToken)
    {
        await EnsureActiveAsync(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, transaction, "select pg_advisory_xact_lock(" + SchemaLock + ")", cancellationToken);
        var building = await FindAsync(connection, transaction, "building", cancellationToken);
        if (building is not null && !fresh)
        {
            await transaction.CommitAsync(cancellationToken);
            return (building, true);
        }
        if (building is not null)
        {
            await ExecuteAsync(connection, transaction,
                "update projections.generations set state = 'retired' where projection = 'job_states' and state = 'building'", cancellationToken);
        }
        var next = await NextAsync(connection, transaction, cancellationToken);
        await CreateTableAsync(connection, transaction, next, cancellationToken);
        await ExecuteAsync(connection, transaction,
            "insert into projections.generations (projection, generation, state) values ('job_states', " + Number(next.Number) + ", 'building')",
            cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (next, false);
    }

    /// <summary>Makes <paramref name="generation"/> the one readers see; the previous one is retired (its table is kept).</summary>
    public async Task ActivateAsync(JobStateGeneration generation, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, transaction, "select pg_advisory_xact_lock(" + SchemaLock + ")", cancellationToken);
        await ExecuteAsync(connection, transaction,
            "update projections.generations set state = 'retired' where projection = 'job_states' and state = 'active'", cancellationToken);
        await ExecuteAsync(connection, transaction,
            "update projections.generations set state = 'active', activated_at = now() where projection = 'job_states' and generation = " + Number(generation.Number),
            cancellationToken);
        await PointViewsAtAsync(connection, transaction, generation, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    static async Task<JobStateGeneration?> FindAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string state, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "select generation from projections.generations where projection = 'job_states' and state = @state order by generation desc limit 1",
            connection, transaction);
        command.Parameters.AddWithValue("state", state);
        return await command.ExecuteScalarAsync(cancellationToken) is int number ? new JobStateGeneration(number) : null;
    }

    static async Task<JobStateGeneration> NextAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var max = new NpgsqlCommand("select coalesce(max(generation), 0) from projections.generations where projection = 'job_states'", connection, transaction);
        return new JobStateGeneration((int)(await max.ExecuteScalarAsync(cancellationToken))! + 1);
    }

    static async Task<bool> HasCurrentColumnsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, JobStateGeneration generation, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "select exists (select 1 from information_schema.columns where table_schema = 'projections' and table_name = @table and column_name = @column)",
            connection, transaction);
        command.Parameters.AddWithValue("table", generation.TableName);
        command.Parameters.AddWithValue("column", JobStateTable.FormatColumn);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    static Task CreateTableAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, JobStateGeneration generation, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, transaction,
            "create table if not exists " + generation.Table + " (" + JobStateTable.Columns + ");" +
            "create index if not exists " + generation.TableName + "_phase on " + generation.Table + " (phase);",
            cancellationToken);

    static Task PointViewsAtAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, JobStateGeneration generation, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, transaction,
            "drop view if exists projections.phase_counts; drop view if exists projections.job_states;" +
            "create view projections.job_states as select * from " + generation.Table + ";" +
            JobStateTable.PhaseCountsView,
            cancellationToken);

    static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
