using Npgsql;
using NpgsqlTypes;
using Streaming.Lifecycle;

namespace Streaming.Promoter.Decisions;

/// <summary>
/// The Promoter's own copy of each job's lifecycle state (<c>promoter.job_lifecycle_snapshots</c>, in the binary form of
/// <see cref="JobLifecycleSnapshot"/>) and the fleet's waves and breakers (<c>promoter.fleet_state</c>), saved with its
/// checkpoint; schema migration 8.
/// </summary>
public static class DecisionStateTable
{
    const int RowsPerStatement = 5_000;

    public static async Task<IReadOnlyDictionary<string, JobLifecycle>> LoadAsync(
        NpgsqlConnection connection, IReadOnlyList<string> jobIds, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("select job_id, snapshot from promoter.job_lifecycle_snapshots where job_id = any(@ids)", connection);
        command.Parameters.Add(new NpgsqlParameter<string[]>("ids", jobIds.ToArray()));
        var states = new Dictionary<string, JobLifecycle>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            states[reader.GetString(0)] = JobLifecycleSnapshot.Read(reader.GetFieldValue<byte[]>(1));
        }
        return states;
    }

    public static async Task<FleetControl?> LoadFleetAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select snapshot::text from promoter.fleet_state where id = 1");
        return await command.ExecuteScalarAsync(cancellationToken) is string json
            ? FleetControlSnapshot.Read(System.Text.Encoding.UTF8.GetBytes(json))
            : null;
    }

    public static async Task SaveFleetAsync(NpgsqlTransaction transaction, FleetControl fleet, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            insert into promoter.fleet_state (id, snapshot, updated_at) values (1, @snapshot::jsonb, now())
            on conflict (id) do update set snapshot = excluded.snapshot, updated_at = now()
            """, transaction.Connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string>("snapshot", System.Text.Encoding.UTF8.GetString(FleetControlSnapshot.Write(fleet))));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public static async Task SaveAsync(
        NpgsqlTransaction transaction, IReadOnlyList<KeyValuePair<string, JobLifecycle>> changed, CancellationToken cancellationToken)
    {
        for (var start = 0; start < changed.Count; start += RowsPerStatement)
        {
            var chunk = changed.Skip(start).Take(RowsPerStatement).ToList();
            await using var command = new NpgsqlCommand(
                """
                insert into promoter.job_lifecycle_snapshots (job_id, snapshot, updated_at)
                select job_id, snapshot, now() from unnest(@ids, @snapshots) as r(job_id, snapshot)
                on conflict (job_id) do update set snapshot = excluded.snapshot, updated_at = now()
                """,
                transaction.Connection,
                transaction);
            command.Parameters.Add(new NpgsqlParameter<string[]>("ids", chunk.Select(c => c.Key).ToArray()));
            command.Parameters.Add(new NpgsqlParameter<byte[][]>
            {
                ParameterName = "snapshots",
                NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea,
                TypedValue = chunk.Select(c => JobLifecycleSnapshot.Write(c.Value)).ToArray(),
            });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
