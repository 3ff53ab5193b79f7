using System.Globalization;
using Npgsql;

namespace Streaming.Projector.JobStates;

/// <summary>
/// Blue/green generations of the job-state projection. Each generation is a partition of
/// <c>projections.job_state_rows</c> (<c>projections.job_states_g{n}</c>) with its own checkpoint; readers use the views
/// <c>projections.job_states</c> and <c>projections.phase_counts</c> (schema migration 7), which read the active one. A
/// rebuild fills a new generation while the active one keeps serving, then activates it in one transaction.
/// </summary>
public sealed class JobStateGenerations(NpgsqlDataSource dataSource)
{
    const long SchemaLock = 7305001;

    /// <summary>The active generation; a new, empty one (filled from the log) when there is none.</summary>
    public async Task<JobStateGeneration> EnsureActiveAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockAsync(connection, transaction, cancellationToken);
        if (await FindAsync(connection, transaction, "active", cancellationToken) is { } active)
        {
            await transaction.CommitAsync(cancellationToken);
            return active;
        }
        var created = await NextAsync(connection, transaction, cancellationToken);
        await CreatePartitionAsync(connection, transaction, created, cancellationToken);
        await ExecuteAsync(connection, transaction,
            "insert into projections.generations (projection, generation, state, activated_at) values ('job_states', " +
            Number(created.Number) + ", 'active', now())",
            cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return created;
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
        await LockAsync(connection, transaction, cancellationToken);
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
        await CreatePartitionAsync(connection, transaction, next, cancellationToken);
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
        await LockAsync(connection, transaction, cancellationToken);
        await ExecuteAsync(connection, transaction,
            "update projections.generations set state = 'retired' where projection = 'job_states' and state = 'active'", cancellationToken);
        await ExecuteAsync(connection, transaction,
            "update projections.generations set state = 'active', activated_at = now() where projection = 'job_states' and generation = " + Number(generation.Number),
            cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    static Task LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, transaction, "select pg_advisory_xact_lock(" + SchemaLock + ")", cancellationToken);

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

    // A generation's rows: one partition, keyed by job (the generation is the same for all of them), with the list's
    // indexes from the partitioned table (migration 50). Room is left in each page so that rewriting a job's row can stay
    // on its page (a HOT update: no index entries to write); its last signal's time, which every signal changes, is also
    // kept in a narrow partition of its own whose index orders the list by it.
    static Task CreatePartitionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, JobStateGeneration generation, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, transaction,
            "create table " + generation.Table + " partition of projections.job_state_rows for values in (" + Number(generation.Number) + ") with (fillfactor = 70);" +
            "alter table " + generation.Table + " alter column generation set default " + Number(generation.Number) + ";" +
            "alter table " + generation.Table + " add primary key (job_id);" +
            "create table " + generation.SignalTable + " partition of projections.job_signal_rows for values in (" + Number(generation.Number) + ") with (fillfactor = 50);" +
            "alter table " + generation.SignalTable + " alter column generation set default " + Number(generation.Number) + ";" +
            "alter table " + generation.SignalTable + " add primary key (job_id);",
            cancellationToken);

    static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
