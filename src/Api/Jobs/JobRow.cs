using System.Text.Json;
using Npgsql;
using Streaming.Contracts.Signals;
using Streaming.Lifecycle;

namespace Streaming.Api.Jobs;

/// <summary>One row of <c>projections.job_states</c> as the API reads it; labels already masked.</summary>
public sealed record JobRow(
    string JobId,
    string Policy,
    string Phase,
    DateTimeOffset? AssignedAt,
    DateTimeOffset? PhaseSince,
    bool AwaitingAck,
    string? LastReportedPhase,
    long? LastSeq,
    DateTimeOffset? LastSignalAt,
    long StreamVersion,
    int PhaseChanges,
    string? LastDirection,
    DateTimeOffset? LastChangedAt,
    IReadOnlyList<string> Flags,
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyDictionary<string, string> Labels,
    string? WaitingFor,
    byte[] Lifecycle)
{
    public const string Columns =
        "job_id, policy, phase, assigned_at, phase_since, awaiting_ack, last_reported_phase, last_seq, last_signal_at, stream_version, " +
        "phase_changes, last_direction, last_changed_at, flags, metrics::text, labels::text, waiting_for, lifecycle";

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public JobLifecycle ReadLifecycle() => JobLifecycleSnapshot.Read(Lifecycle);

    /// <summary>Reads the row's <see cref="Columns"/>, the first at ordinal <paramref name="o"/>.</summary>
    public static JobRow Read(NpgsqlDataReader reader, int o = 0) => new(
        reader.GetString(o + 0),
        reader.GetString(o + 1),
        reader.GetString(o + 2),
        Time(reader, o + 3),
        Time(reader, o + 4),
        reader.GetBoolean(o + 5),
        reader.IsDBNull(o + 6) ? null : reader.GetString(o + 6),
        reader.IsDBNull(o + 7) ? null : reader.GetInt64(o + 7),
        Time(reader, o + 8),
        reader.GetInt64(o + 9),
        reader.GetInt32(o + 10),
        reader.IsDBNull(o + 11) ? null : reader.GetString(o + 11),
        Time(reader, o + 12),
        reader.GetFieldValue<string[]>(o + 13),
        JsonSerializer.Deserialize<Dictionary<string, double>>(reader.GetString(o + 14), Json) ?? [],
        SecretLabels.Masked(JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(o + 15), Json) ?? []),
        reader.IsDBNull(o + 16) ? null : reader.GetString(o + 16),
        reader.GetFieldValue<byte[]>(o + 17));

    static DateTimeOffset? Time(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);
}
