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
        return await SnapshotRow.Fleet.ReadAsync(dataSource, cancellationToken) is { } json
            ? FleetControlSnapshot.Read(System.Text.Encoding.UTF8.GetBytes(json))
            : null;
    }

    /// <summary>The rows a save writes, serialized now, so the transaction that writes them may run later, beside the fold.</summary>
    public static (string[] JobIds, byte[][] Snapshots, string Fleet) Rows(IReadOnlyList<KeyValuePair<string, JobLifecycle>> changed, FleetControl fleet)
    {
        var ids = new string[changed.Count];
        var snapshots = new byte[changed.Count][];
        for (var i = 0; i < changed.Count; i++)
        {
            ids[i] = changed[i].Key;
            snapshots[i] = JobLifecycleSnapshot.Write(changed[i].Value);
        }
        return (ids, snapshots, System.Text.Encoding.UTF8.GetString(FleetControlSnapshot.Write(fleet)));
    }

    public static async Task SaveAsync(NpgsqlTransaction transaction, (string[] JobIds, byte[][] Snapshots, string Fleet) rows, CancellationToken cancellationToken)
    {
        for (var start = 0; start < rows.JobIds.Length; start += RowsPerStatement)
        {
            var count = Math.Min(RowsPerStatement, rows.JobIds.Length - start);
            await using var command = new NpgsqlCommand(
                """
                insert into promoter.job_lifecycle_snapshots (job_id, snapshot, updated_at)
                select job_id, snapshot, now() from unnest(@ids, @snapshots) as r(job_id, snapshot)
                on conflict (job_id) do update set snapshot = excluded.snapshot, updated_at = now()
                """,
                transaction.Connection,
                transaction);
            command.Parameters.Add(new NpgsqlParameter<string[]>("ids", rows.JobIds[start..(start + count)]));
            command.Parameters.Add(new NpgsqlParameter<byte[][]>
            {
                ParameterName = "snapshots",
                NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea,
                TypedValue = rows.Snapshots[start..(start + count)],
            });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await SnapshotRow.Fleet.WriteAsync(transaction, rows.Fleet, cancellationToken);
    }
}
