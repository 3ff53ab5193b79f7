using System.Text;
using Npgsql;
using NpgsqlTypes;
using Streaming.Lifecycle;

namespace Streaming.Projector.JobStates;

/// <summary>
/// Up to <see cref="JobStateRows.RowsPerStatement"/> of a flush's job-state rows, held column by column for one upsert
/// from arrays (no staging table to create, fill, read and drop) and the last signals' times into the narrow table that
/// orders the list by them (only where a time changed).
/// </summary>
sealed class JobStateRowChunk
{
    readonly string[] _jobId, _policy, _phase, _flags;
    readonly DateTime?[] _assignedAt, _phaseSince, _lastSignalAt, _lastChangedAt;
    readonly bool[] _awaitingAck, _stuck, _regressed;
    readonly string?[] _lastReportedPhase, _lastDirection, _waitingFor;
    readonly long?[] _lastSeq;
    readonly long[] _streamVersion;
    readonly int[] _phaseChanges;
    // JSON as UTF-8: a write holds its rows until it commits.
    readonly byte[][] _metrics, _labels;
    readonly byte[][] _lifecycle;

    public JobStateRowChunk(int count)
    {
        _jobId = new string[count];
        _policy = new string[count];
        _phase = new string[count];
        _flags = new string[count];
        _assignedAt = new DateTime?[count];
        _phaseSince = new DateTime?[count];
        _lastSignalAt = new DateTime?[count];
        _lastChangedAt = new DateTime?[count];
        _awaitingAck = new bool[count];
        _stuck = new bool[count];
        _regressed = new bool[count];
        _lastReportedPhase = new string?[count];
        _lastDirection = new string?[count];
        _waitingFor = new string?[count];
        _lastSeq = new long?[count];
        _streamVersion = new long[count];
        _phaseChanges = new int[count];
        _metrics = new byte[count][];
        _labels = new byte[count][];
        _lifecycle = new byte[count][];
    }

    public int Count => _jobId.Length;

    public void Set(int i, JobStateView view, JobContext context)
    {
        var row = JobStateRow.From(view, context);
        _jobId[i] = row.JobId;
        _policy[i] = row.Policy;
        _phase[i] = row.Phase;
        _assignedAt[i] = row.AssignedAt?.UtcDateTime;
        _phaseSince[i] = row.PhaseSince?.UtcDateTime;
        _awaitingAck[i] = row.AwaitingAck;
        _lastReportedPhase[i] = row.LastReportedPhase;
        _lastSeq[i] = row.LastSeq;
        _lastSignalAt[i] = row.LastSignalAt?.UtcDateTime;
        _streamVersion[i] = row.StreamVersion;
        _phaseChanges[i] = row.PhaseChanges;
        _lastDirection[i] = row.LastDirection;
        _lastChangedAt[i] = row.LastChangedAt?.UtcDateTime;
        _stuck[i] = row.Stuck;
        _regressed[i] = row.Regressed;
        _flags[i] = ArrayLiteral(row.Flags);
        _metrics[i] = row.MetricsJson;
        _labels[i] = row.LabelsJson;
        _lifecycle[i] = JobLifecycleSnapshot.Write(view.Lifecycle);
        _waitingFor[i] = view.WaitingFor;
    }

    /// <summary>Adds the chunk's two statements to <paramref name="batch"/>, for <paramref name="generation"/>'s tables.</summary>
    public void AddTo(NpgsqlBatch batch, JobStateGeneration generation)
    {
        var upsert = new NpgsqlBatchCommand(
            "insert into " + generation.Table + " as s (" + Columns + ", updated_at) " +
            "select u.job_id, u.policy, u.phase, u.assigned_at, u.phase_since, u.awaiting_ack, u.last_reported_phase, u.last_seq, " +
            "u.last_signal_at, u.stream_version, u.phase_changes, u.last_direction, u.last_changed_at, u.stuck, u.regressed, " +
            "u.flags::text[], u.metrics, u.labels, u.lifecycle, u.waiting_for, now() " +
            "from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::boolean[], $7::text[], $8::bigint[], " +
            "$9::timestamptz[], $10::bigint[], $11::int[], $12::text[], $13::timestamptz[], $14::boolean[], $15::boolean[], $16::text[], " +
            "$17::jsonb[], $18::jsonb[], $19::bytea[], $20::text[]) as u (" + Columns + ") " +
            """
            on conflict (job_id) do update set
                policy = excluded.policy, phase = excluded.phase, assigned_at = excluded.assigned_at, phase_since = excluded.phase_since,
                awaiting_ack = excluded.awaiting_ack, last_reported_phase = excluded.last_reported_phase, last_seq = excluded.last_seq,
                last_signal_at = excluded.last_signal_at, stream_version = excluded.stream_version, phase_changes = excluded.phase_changes,
                last_direction = excluded.last_direction, last_changed_at = excluded.last_changed_at, stuck = excluded.stuck,
                regressed = excluded.regressed, flags = excluded.flags, metrics = excluded.metrics, labels = excluded.labels, lifecycle = excluded.lifecycle, waiting_for = excluded.waiting_for,
                updated_at = excluded.updated_at
            """);
        var parameters = upsert.Parameters;
        parameters.Add(new NpgsqlParameter<string[]> { TypedValue = _jobId });
        parameters.Add(new NpgsqlParameter<string[]> { TypedValue = _policy });
        parameters.Add(new NpgsqlParameter<string[]> { TypedValue = _phase });
        parameters.Add(new NpgsqlParameter<DateTime?[]> { TypedValue = _assignedAt, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        parameters.Add(new NpgsqlParameter<DateTime?[]> { TypedValue = _phaseSince, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        parameters.Add(new NpgsqlParameter<bool[]> { TypedValue = _awaitingAck });
        parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = _lastReportedPhase, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        parameters.Add(new NpgsqlParameter<long?[]> { TypedValue = _lastSeq, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        parameters.Add(new NpgsqlParameter<DateTime?[]> { TypedValue = _lastSignalAt, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        parameters.Add(new NpgsqlParameter<long[]> { TypedValue = _streamVersion });
        parameters.Add(new NpgsqlParameter<int[]> { TypedValue = _phaseChanges });
        parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = _lastDirection, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        parameters.Add(new NpgsqlParameter<DateTime?[]> { TypedValue = _lastChangedAt, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        parameters.Add(new NpgsqlParameter<bool[]> { TypedValue = _stuck });
        parameters.Add(new NpgsqlParameter<bool[]> { TypedValue = _regressed });
        parameters.Add(new NpgsqlParameter<string[]> { TypedValue = _flags });
        parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = _metrics, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
        parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = _labels, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
        parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = _lifecycle, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = _waitingFor, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        var signals = new NpgsqlBatchCommand(
            "insert into " + generation.SignalTable + " as t (job_id, last_signal_at) select * from unnest($1::text[], $2::timestamptz[]) " +
            "on conflict (job_id) do update set last_signal_at = excluded.last_signal_at where t.last_signal_at is distinct from excluded.last_signal_at");
        signals.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = _jobId });
        signals.Parameters.Add(new NpgsqlParameter<DateTime?[]> { TypedValue = _lastSignalAt, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        batch.BatchCommands.Add(upsert);
        batch.BatchCommands.Add(signals);
    }

    const string Columns =
        "job_id, policy, phase, assigned_at, phase_since, awaiting_ack, last_reported_phase, last_seq, last_signal_at, stream_version, " +
        "phase_changes, last_direction, last_changed_at, stuck, regressed, flags, metrics, labels, lifecycle, waiting_for";

    // A row's flags travel as one array literal each (arrays of arrays must be rectangular), quoted so that any text
    // (a known issue's id is the operator's) reads back as itself.
    static string ArrayLiteral(IReadOnlyList<string> values)
    {
        var literal = new StringBuilder("{");
        foreach (var value in values)
        {
            if (literal.Length > 1)
            {
                literal.Append(',');
            }
            literal.Append('"').Append(value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append('"');
        }
        return literal.Append('}').ToString();
    }
}
