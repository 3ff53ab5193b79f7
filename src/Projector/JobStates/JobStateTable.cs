using System.Text.Json;
using Npgsql;
using Streaming.Lifecycle;

namespace Streaming.Projector.JobStates;

/// <summary>A generation's job-state rows: one per job; <c>projections.phase_counts</c> counts over the active generation.</summary>
public static class JobStateTable
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<IReadOnlyDictionary<string, JobStateView>> LoadAsync(
        NpgsqlConnection connection, JobStateGeneration generation, IReadOnlyList<string> jobIds, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "select job_id, lifecycle, labels::text, last_direction, last_changed_at, stream_version, waiting_for, '" + LifecycleFlags.Poisoned +
            "' = any(flags), '" + LifecycleFlags.AwaitingApproval + "' = any(flags), '" + LifecycleFlags.Approved +
            "' = any(flags), '" + LifecycleFlags.Silent + "' = any(flags) from " + generation.Table + " where job_id = any(@ids)",
            connection);
        command.Parameters.Add(new NpgsqlParameter<string[]>("ids", jobIds.ToArray()));
        var states = new Dictionary<string, JobStateView>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            states[reader.GetString(0)] = new JobStateView(
                JobLifecycleSnapshot.Read(reader.GetFieldValue<byte[]>(1)),
                JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(2), Json)!,
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4),
                reader.GetInt64(5),
                reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.GetBoolean(7),
                reader.GetBoolean(8),
                reader.GetBoolean(9),
                reader.GetBoolean(10));
        }
        return states;
    }

    /// <summary>The value's JSON as UTF-8, as the rows send it: half the size of the same text in a string.</summary>
    internal static byte[] ToUtf8Json<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Json);
}
