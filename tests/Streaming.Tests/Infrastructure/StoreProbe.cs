using Npgsql;

namespace Streaming.Tests.Infrastructure;

/// <summary>Reads the store's tables directly, the way an operator with psql would.</summary>
public sealed class StoreProbe(NpgsqlDataSource dataSource)
{
    public async Task<long> CountEventsAsync(string jobId, string? type = null)
    {
        await using var command = dataSource.CreateCommand(
            "select count(*) from es.events where stream_id = @job and (@type::text is null or type = @type)");
        command.Parameters.AddWithValue("job", jobId);
        command.Parameters.Add(new NpgsqlParameter<string?>("type", type));
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async Task<long> CountAllEventsAsync(string type)
    {
        await using var command = dataSource.CreateCommand("select count(*) from es.events where type = @type");
        command.Parameters.AddWithValue("type", type);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The type and data of every event of <paramref name="types"/>, in the log's order.</summary>
    public async Task<List<(string Type, string Data)>> EventsAsync(string[] types) =>
        [.. (await CommittedEventsAsync(types)).OrderBy(e => e.Position).Select(e => (e.Type, e.Data))];

    /// <summary>
    /// Every event of <paramref name="types"/> with its commit's time and its position (of those in the control partition
    /// only when <paramref name="controlPartition"/>), in no order.
    /// </summary>
    public async Task<List<(DateTimeOffset At, long Position, string Type, string Data)>> CommittedEventsAsync(string[] types, bool controlPartition = true)
    {
        await using var command = dataSource.CreateCommand(
            """
            select c.committed_at, e.global_position, e.type, e.data::text
            from es.events e join es.commits c on c.tx_id = e.tx_id and c.partition = e.partition
            where e.type = any($1) and ($2 or e.partition <> 0)
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = types });
        command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = controlPartition });
        var events = new List<(DateTimeOffset, long, string, string)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            events.Add((reader.GetFieldValue<DateTimeOffset>(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3)));
        }
        return events;
    }

    /// <summary>True once the named reader's checkpoint has passed every event of the job, in the job's partition.</summary>
    public async Task<bool> HasProcessedAsync(string checkpoint, string jobId)
    {
        await using var command = dataSource.CreateCommand(
            """
            select exists (select 1 from es.checkpoints c where c.name = @name)
               and not exists (
                   select 1 from es.commits ec join es.events e on e.tx_id = ec.tx_id and e.partition = ec.partition
                    where e.stream_id = @job
                      and not exists (select 1 from es.checkpoints c
                                       where c.name = @name and c.partition = ec.partition
                                         and (ec.commit, e.global_position) <= (c.commit, c.position)))
            """);
        command.Parameters.AddWithValue("job", jobId);
        command.Parameters.AddWithValue("name", checkpoint);
        return (bool)(await command.ExecuteScalarAsync())!;
    }

    public async Task<string?> PhaseAsync(string jobId) => await ProjectedAsync(jobId, "select phase from projections.job_states where job_id = @job") as string;

    public async Task<long?> LastSeqAsync(string jobId) =>
        await ProjectedAsync(jobId, "select last_seq from projections.job_states where job_id = @job") is long seq ? seq : null;

    /// <summary>Rows of one job-state generation not found alike in the other, both ways.</summary>
    public async Task<long> DifferingJobStatesAsync(int generation, int other)
    {
        const string columns = "job_id, policy, phase, assigned_at, phase_since, awaiting_ack, last_reported_phase, last_seq, last_signal_at, stream_version, phase_changes, last_direction, last_changed_at, stuck, regressed, flags, metrics, labels, lifecycle, waiting_for";
        var (a, b) = ($"projections.job_states_g{generation}", $"projections.job_states_g{other}");
        await using var command = dataSource.CreateCommand(
            $"select count(*) from ((select {columns} from {a} except select {columns} from {b}) union all (select {columns} from {b} except select {columns} from {a})) d");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    // The projection's view appears when the Projector first starts; until then there is nothing projected.
    async Task<object?> ProjectedAsync(string jobId, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.AddWithValue("job", jobId);
        try
        {
            return await command.ExecuteScalarAsync();
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return null;
        }
    }
}
