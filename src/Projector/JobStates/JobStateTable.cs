using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Streaming.Lifecycle;

namespace Streaming.Projector.JobStates;

/// <summary>A generation's job-state table: one row per job; <c>projections.phase_counts</c> counts over the active one.</summary>
public static class JobStateTable
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public const string Columns = """
        job_id text primary key,
        policy text not null,
        phase text not null,
        assigned_at timestamptz,
        phase_since timestamptz,
        awaiting_ack boolean not null,
        last_reported_phase text,
        last_seq bigint,
        last_signal_at timestamptz,
        stream_version bigint not null,
        phase_changes int not null,
        last_direction text,
        last_changed_at timestamptz,
        stuck boolean not null,
        regressed boolean not null,
        flags text[] not null,
        metrics jsonb not null,
        criteria jsonb not null,
        labels jsonb not null,
        state jsonb not null,
        updated_at timestamptz not null default now()
        """;

    public const string PhaseCountsView = """
        create view projections.phase_counts as
            select phase,
                   count(*)::int as jobs,
                   (count(*) filter (where awaiting_ack))::int as awaiting_ack,
                   (count(*) filter (where stuck))::int as stuck,
                   (count(*) filter (where regressed))::int as regressed
            from projections.job_states
            group by phase;
        """;

    public static async Task<IReadOnlyDictionary<string, JobStateView>> LoadAsync(
        NpgsqlConnection connection, JobStateGeneration generation, IReadOnlyList<string> jobIds, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("select job_id, state::text from " + generation.Table + " where job_id = any(@ids)", connection);
        command.Parameters.Add(new NpgsqlParameter<string[]>("ids", jobIds.ToArray()));
        var states = new Dictionary<string, JobStateView>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            states[reader.GetString(0)] = JsonSerializer.Deserialize<JobStateView>(reader.GetString(1), Json)!;
        }
        return states;
    }

    public static async Task SaveAsync(
        NpgsqlTransaction transaction,
        JobStateGeneration generation,
        IReadOnlyList<KeyValuePair<string, JobStateView>> changed,
        LifecyclePolicy policy,
        CancellationToken cancellationToken)
    {
        var rows = changed.Select(c => JobStateRow.From(c.Value, policy)).ToList();
        await using var command = new NpgsqlCommand(
            "insert into " + generation.Table + " as s " + """
            (job_id, policy, phase, assigned_at, phase_since, awaiting_ack, last_reported_phase,
                last_seq, last_signal_at, stream_version, phase_changes, last_direction, last_changed_at, stuck, regressed, flags,
                metrics, criteria, labels, state, updated_at)
            select r.job_id, r.policy, r.phase, r.assigned_at, r.phase_since, r.awaiting_ack, r.last_reported_phase,
                r.last_seq, r.last_signal_at, r.stream_version, r.phase_changes, r.last_direction, r.last_changed_at, r.stuck, r.regressed,
                string_to_array(r.flags, ','), r.metrics, r.criteria, r.labels, r.state, now()
            from unnest(@job_id, @policy, @phase, @assigned_at, @phase_since, @awaiting_ack, @last_reported_phase, @last_seq,
                @last_signal_at, @stream_version, @phase_changes, @last_direction, @last_changed_at, @stuck, @regressed, @flags,
                @metrics, @criteria, @labels, @state)
                as r(job_id, policy, phase, assigned_at, phase_since, awaiting_ack, last_reported_phase, last_seq, last_signal_at,
                     stream_version, phase_changes, last_direction, last_changed_at, stuck, regressed, flags, metrics, criteria, labels, state)
            on conflict (job_id) do update set
                policy = excluded.policy, phase = excluded.phase, assigned_at = excluded.assigned_at, phase_since = excluded.phase_since,
                awaiting_ack = excluded.awaiting_ack, last_reported_phase = excluded.last_reported_phase, last_seq = excluded.last_seq,
                last_signal_at = excluded.last_signal_at, stream_version = excluded.stream_version, phase_changes = excluded.phase_changes,
                last_direction = excluded.last_direction, last_changed_at = excluded.last_changed_at, stuck = excluded.stuck,
                regressed = excluded.regressed, flags = excluded.flags, metrics = excluded.metrics, criteria = excluded.criteria,
                labels = excluded.labels, state = excluded.state, updated_at = now()
            """,
            transaction.Connection,
            transaction);
        command.Parameters.Add(new NpgsqlParameter<string[]>("job_id", rows.Select(r => r.JobId).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<string[]>("policy", rows.Select(r => r.Policy).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<string[]>("phase", rows.Select(r => r.Phase).ToArray()));
        AddTimestamps(command, "assigned_at", rows.Select(r => r.AssignedAt));
        AddTimestamps(command, "phase_since", rows.Select(r => r.PhaseSince));
        command.Parameters.Add(new NpgsqlParameter<bool[]>("awaiting_ack", rows.Select(r => r.AwaitingAck).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<string?[]>("last_reported_phase", rows.Select(r => r.LastReportedPhase).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<long?[]>("last_seq", rows.Select(r => r.LastSeq).ToArray()));
        AddTimestamps(command, "last_signal_at", rows.Select(r => r.LastSignalAt));
        command.Parameters.Add(new NpgsqlParameter<long[]>("stream_version", rows.Select(r => r.StreamVersion).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<int[]>("phase_changes", rows.Select(r => r.PhaseChanges).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<string?[]>("last_direction", rows.Select(r => r.LastDirection).ToArray()));
        AddTimestamps(command, "last_changed_at", rows.Select(r => r.LastChangedAt));
        command.Parameters.Add(new NpgsqlParameter<bool[]>("stuck", rows.Select(r => r.Stuck).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<bool[]>("regressed", rows.Select(r => r.Regressed).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<string[]>("flags", rows.Select(r => string.Join(',', r.Flags)).ToArray()));
        AddJson(command, "metrics", rows.Select(r => r.MetricsJson));
        AddJson(command, "criteria", rows.Select(r => r.CriteriaJson));
        AddJson(command, "labels", rows.Select(r => r.LabelsJson));
        AddJson(command, "state", changed.Select(c => JsonSerializer.Serialize(c.Value, Json)));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    static void AddJson(NpgsqlCommand command, string name, IEnumerable<string> values) =>
        command.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Jsonb) { Value = values.ToArray() });

    // Typed explicitly: inferred from the values, an array that starts with nulls is taken for timestamp without time zone.
    static void AddTimestamps(NpgsqlCommand command, string name, IEnumerable<DateTimeOffset?> values) =>
        command.Parameters.Add(new NpgsqlParameter<DateTime?[]>
        {
            ParameterName = name,
            NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz,
            TypedValue = values.Select(v => v?.UtcDateTime).ToArray(),
        });

    internal static string ToJson<T>(T value) => JsonSerializer.Serialize(value, Json);
}
