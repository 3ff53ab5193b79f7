using Npgsql;

namespace Streaming.Promoter.Decisions;

/// <summary>
/// A table of one JSON row (<c>id = 1</c>) that the Promoter saves whole with its decisions' checkpoint: the fleet's
/// waves and breakers, the gates' state, the jobs waiting for approval. The table is one of these constants, never input.
/// </summary>
public sealed class SnapshotRow
{
    /// <summary>The fleet's waves and breakers (<c>promoter.fleet_state</c>, migration 8).</summary>
    public static readonly SnapshotRow Fleet = new("promoter.fleet_state");

    /// <summary>The gates' watermark, pauses, pending demotions and waiting jobs (<c>promoter.gate_state</c>, migration 60).</summary>
    public static readonly SnapshotRow Gates = new("promoter.gate_state");

    /// <summary>The jobs waiting for approval (<c>promoter.approval_state</c>, migration 62).</summary>
    public static readonly SnapshotRow Approvals = new("promoter.approval_state");

    /// <summary>The waves' slots in Owner mode (<c>promoter.admission_state</c>, migration 67), written by the owner of the control partition alone.</summary>
    public static readonly SnapshotRow Admissions = new("promoter.admission_state");

    /// <summary>The fleet's breakers in Owner mode (<c>promoter.breaker_state</c>, migration 68), written by the owner of the control partition alone.</summary>
    public static readonly SnapshotRow Breakers = new("promoter.breaker_state");

    readonly string _upsert;

    SnapshotRow(string table)
    {
        SelectSql = $"select snapshot::text from {table} where id = 1";
        _upsert = $"""
            insert into {table} (id, snapshot, updated_at) values (1, @snapshot::jsonb, now())
            on conflict (id) do update set snapshot = excluded.snapshot, updated_at = now()
            """;
    }

    /// <summary>A scalar subquery's text that reads the snapshot, for a query that reads it with something else.</summary>
    public string SelectSql { get; }

    /// <summary>The snapshot's JSON, or null before the first save.</summary>
    public async Task<string?> ReadAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(SelectSql);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    /// <summary>Replaces the snapshot in <paramref name="transaction"/>.</summary>
    public async Task WriteAsync(NpgsqlTransaction transaction, string snapshot, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(_upsert, transaction.Connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string>("snapshot", snapshot));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
