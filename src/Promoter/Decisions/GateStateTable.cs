using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Streaming.Lifecycle;

namespace Streaming.Promoter.Decisions;

/// <summary>
/// The <see cref="GateKeeper"/>'s state, saved with the decisions' checkpoint (migration 60): the watermark, the pauses in
/// force, silent jobs' demotions not yet applied and jobs waiting on a gate (<c>promoter.gate_state</c>, one JSON row),
/// and one row per job a silence rule covers (<c>promoter.silence_entries</c>), written as they change.
/// </summary>
public static class GateStateTable
{
    const int RowsPerStatement = 5_000;

    sealed record State(
        DateTimeOffset? Watermark,
        Pause[] Pauses,
        StoredDecision[] Pending,
        Dictionary<string, string> WaitingFor);

    sealed record StoredDecision(string JobId, string From, string To, DateTimeOffset DecidedAt, long DecidingVersion, string Policy, string Reason);

    sealed record StoredEntry(string Policy, string Phase, bool Acknowledged, bool Movable, DateTimeOffset LastSignalAt, long LastVersion,
        TimeSpan After, SilenceAction Action, bool Silent);

    public static async Task<GateKeeper> LoadAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var gates = new GateKeeper();
        if (await SnapshotRow.Gates.ReadAsync(dataSource, cancellationToken) is { } json && JsonSerializer.Deserialize<State>(json) is { } state)
        {
            gates.Silence.Restore(state.Watermark);
            foreach (var pause in state.Pauses)
            {
                gates.Pauses.Restore(pause);
            }
            gates.Restore(
                state.Pending.Select(d => new PhaseDecision(d.JobId, d.From, d.To, PhaseDecision.Demote, d.DecidedAt, d.DecidingVersion, d.Policy, d.Reason, [],
                    d.DecidingVersion, d.DecidingVersion, false)),
                state.WaitingFor);
        }
        await using (var command = dataSource.CreateCommand("select job_id, entry::text from promoter.silence_entries"))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                if (JsonSerializer.Deserialize<StoredEntry>(reader.GetString(1)) is { } e)
                {
                    gates.Silence.Restore(new SilenceEntry(reader.GetString(0), e.Policy, e.Phase, e.Acknowledged, e.Movable, e.LastSignalAt, e.LastVersion,
                        new SilenceRule(e.After, e.Action), e.Silent));
                }
            }
        }
        gates.Silence.TakeChanged();
        return gates;
    }

    /// <summary>What the operator surface shows: the watermark, the pauses in force (with their ends in event time) and how many jobs are silent.</summary>
    public static async Task<(DateTimeOffset? Watermark, IReadOnlyList<Pause> Pauses, int Silent)> LoadSummaryAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"select ({SnapshotRow.Gates.SelectSql}), " +
            "(select count(*)::int from promoter.silence_entries where (entry->>'Silent')::boolean)");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var state = reader.IsDBNull(0) ? null : JsonSerializer.Deserialize<State>(reader.GetString(0));
        return (state?.Watermark, state?.Pauses ?? [], reader.GetInt32(1));
    }

    /// <summary>
    /// The gates' state as it is now, serialized (and the silence rows changed since the last save taken), so the write
    /// may run beside the fold, and be run again, with the same rows.
    /// </summary>
    public static Func<NpgsqlTransaction, CancellationToken, Task> PrepareSave(GateKeeper gates)
    {
        var snapshot = JsonSerializer.Serialize(new State(gates.Silence.Watermark, [.. gates.Pauses.InForce],
            [.. gates.Pending.Values.Select(d => new StoredDecision(d.JobId, d.From, d.To, d.DecidedAt, d.DecidingVersion, d.Policy, d.Reason))],
            new Dictionary<string, string>(gates.WaitingFor, StringComparer.Ordinal)));
        var changed = gates.Silence.TakeChanged();
        var ids = changed.Select(c => c.JobId).ToArray();
        var entries = changed.Select(c => c.Entry is { } e
            ? JsonSerializer.Serialize(new StoredEntry(e.Policy, e.Phase, e.Acknowledged, e.Movable, e.LastSignalAt, e.LastVersion, e.Rule.After, e.Rule.Action, e.Silent))
            : null).ToArray();
        return (transaction, cancellationToken) => SaveAsync(transaction, snapshot, ids, entries, cancellationToken);
    }

    static async Task SaveAsync(NpgsqlTransaction transaction, string snapshot, string[] ids, string?[] entries, CancellationToken cancellationToken)
    {
        await SnapshotRow.Gates.WriteAsync(transaction, snapshot, cancellationToken);
        for (var start = 0; start < ids.Length; start += RowsPerStatement)
        {
            var count = Math.Min(RowsPerStatement, ids.Length - start);
            await using var command = new NpgsqlCommand(
                """
                with rows as (select * from unnest(@ids, @entries) as r(job_id, entry)),
                gone as (delete from promoter.silence_entries s using rows where s.job_id = rows.job_id and rows.entry is null)
                insert into promoter.silence_entries (job_id, entry)
                select job_id, entry::jsonb from rows where entry is not null
                on conflict (job_id) do update set entry = excluded.entry
                """, transaction.Connection, transaction);
            command.Parameters.Add(new NpgsqlParameter<string[]>("ids", ids[start..(start + count)]));
            command.Parameters.Add(new NpgsqlParameter
            {
                ParameterName = "entries",
                NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text,
                Value = entries[start..(start + count)],
            });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
