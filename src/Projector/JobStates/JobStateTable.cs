using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
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
            "' = any(flags) from " + generation.Table + " where job_id = any(@ids)",
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
                reader.GetBoolean(7));
        }
        return states;
    }

    /// <summary>
    /// Streams the rows into a staging table with binary COPY (no per-row statements, no arrays held in memory), then
    /// upserts them in one statement; all inside the caller's transaction.
    /// </summary>
    public static async Task SaveAsync(
        NpgsqlTransaction transaction,
        JobStateGeneration generation,
        IReadOnlyList<KeyValuePair<string, JobStateView>> changed,
        Func<JobStateView, JobContext> contextOf,
        CancellationToken cancellationToken)
    {
        var connection = transaction.Connection!;
        await using (var stage = new NpgsqlCommand(
            "create temp table if not exists job_states_stage (like " + generation.Table + " including defaults) on commit drop; truncate job_states_stage",
            connection, transaction))
        {
            await stage.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var importer = await connection.BeginBinaryImportAsync(
            "copy job_states_stage (" + CopiedColumns + ") from stdin (format binary)", cancellationToken))
        {
            foreach (var (_, view) in changed)
            {
                await WriteRowAsync(importer, JobStateRow.From(view, contextOf(view)), view, cancellationToken);
            }
            await importer.CompleteAsync(cancellationToken);
        }
        await using var upsert = new NpgsqlCommand(
            "insert into " + generation.Table + " as s (" + CopiedColumns + ", updated_at) select " + CopiedColumns + ", now() from job_states_stage " +
            """
            on conflict (job_id) do update set
                policy = excluded.policy, phase = excluded.phase, assigned_at = excluded.assigned_at, phase_since = excluded.phase_since,
                awaiting_ack = excluded.awaiting_ack, last_reported_phase = excluded.last_reported_phase, last_seq = excluded.last_seq,
                last_signal_at = excluded.last_signal_at, stream_version = excluded.stream_version, phase_changes = excluded.phase_changes,
                last_direction = excluded.last_direction, last_changed_at = excluded.last_changed_at, stuck = excluded.stuck,
                regressed = excluded.regressed, flags = excluded.flags, metrics = excluded.metrics, criteria = excluded.criteria,
                labels = excluded.labels, lifecycle = excluded.lifecycle, waiting_for = excluded.waiting_for,
                updated_at = now()
            """,
            connection,
            transaction);
        await upsert.ExecuteNonQueryAsync(cancellationToken);
    }

    const string CopiedColumns =
        "job_id, policy, phase, assigned_at, phase_since, awaiting_ack, last_reported_phase, last_seq, last_signal_at, stream_version, " +
        "phase_changes, last_direction, last_changed_at, stuck, regressed, flags, metrics, criteria, labels, lifecycle, waiting_for";

    static async Task WriteRowAsync(NpgsqlBinaryImporter importer, JobStateRow row, JobStateView view, CancellationToken cancellationToken)
    {
        await importer.StartRowAsync(cancellationToken);
        await importer.WriteAsync(row.JobId, NpgsqlDbType.Text, cancellationToken);
        await importer.WriteAsync(row.Policy, NpgsqlDbType.Text, cancellationToken);
        await importer.WriteAsync(row.Phase, NpgsqlDbType.Text, cancellationToken);
        await WriteTimestampAsync(importer, row.AssignedAt, cancellationToken);
        await WriteTimestampAsync(importer, row.PhaseSince, cancellationToken);
        await importer.WriteAsync(row.AwaitingAck, NpgsqlDbType.Boolean, cancellationToken);
        await WriteNullableAsync(importer, row.LastReportedPhase, NpgsqlDbType.Text, cancellationToken);
        await WriteNullableAsync(importer, row.LastSeq, NpgsqlDbType.Bigint, cancellationToken);
        await WriteTimestampAsync(importer, row.LastSignalAt, cancellationToken);
        await importer.WriteAsync(row.StreamVersion, NpgsqlDbType.Bigint, cancellationToken);
        await importer.WriteAsync(row.PhaseChanges, NpgsqlDbType.Integer, cancellationToken);
        await WriteNullableAsync(importer, row.LastDirection, NpgsqlDbType.Text, cancellationToken);
        await WriteTimestampAsync(importer, row.LastChangedAt, cancellationToken);
        await importer.WriteAsync(row.Stuck, NpgsqlDbType.Boolean, cancellationToken);
        await importer.WriteAsync(row.Regressed, NpgsqlDbType.Boolean, cancellationToken);
        await importer.WriteAsync(row.Flags.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken);
        await importer.WriteAsync(row.MetricsJson, NpgsqlDbType.Jsonb, cancellationToken);
        await importer.WriteAsync(row.CriteriaJson, NpgsqlDbType.Jsonb, cancellationToken);
        await importer.WriteAsync(row.LabelsJson, NpgsqlDbType.Jsonb, cancellationToken);
        await importer.WriteAsync(JobLifecycleSnapshot.Write(view.Lifecycle), NpgsqlDbType.Bytea, cancellationToken);
        await WriteNullableAsync(importer, view.WaitingFor, NpgsqlDbType.Text, cancellationToken);
    }

    static Task WriteTimestampAsync(NpgsqlBinaryImporter importer, DateTimeOffset? value, CancellationToken cancellationToken) =>
        value is { } time
            ? importer.WriteAsync(time.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken)
            : importer.WriteNullAsync(cancellationToken);

    static Task WriteNullableAsync<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type, CancellationToken cancellationToken) =>
        value is { } present ? importer.WriteAsync(present, type, cancellationToken) : importer.WriteNullAsync(cancellationToken);

    static Task WriteNullableAsync(NpgsqlBinaryImporter importer, long? value, NpgsqlDbType type, CancellationToken cancellationToken) =>
        value is { } present ? importer.WriteAsync(present, type, cancellationToken) : importer.WriteNullAsync(cancellationToken);

    internal static string ToJson<T>(T value) => JsonSerializer.Serialize(value, Json);
}
