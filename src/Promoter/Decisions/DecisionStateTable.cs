using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Streaming.Lifecycle;

namespace Streaming.Promoter.Decisions;

/// <summary>The Promoter's own copy of each job's lifecycle state (<c>promoter.job_lifecycles</c>), saved with its checkpoint.</summary>
public static class DecisionStateTable
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task EnsureAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("select pg_advisory_xact_lock(7305002)", connection, transaction))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var command = new NpgsqlCommand(
            """
            create schema if not exists promoter;
            create table if not exists promoter.job_lifecycles (
                job_id text primary key,
                state jsonb not null,
                updated_at timestamptz not null default now());
            """, connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    public static async Task<IReadOnlyDictionary<string, JobLifecycle>> LoadAsync(
        NpgsqlConnection connection, IReadOnlyList<string> jobIds, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("select job_id, state::text from promoter.job_lifecycles where job_id = any(@ids)", connection);
        command.Parameters.Add(new NpgsqlParameter<string[]>("ids", jobIds.ToArray()));
        var states = new Dictionary<string, JobLifecycle>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            states[reader.GetString(0)] = JsonSerializer.Deserialize<JobLifecycle>(reader.GetString(1), Json)!;
        }
        return states;
    }

    public static async Task SaveAsync(
        NpgsqlTransaction transaction, IReadOnlyList<KeyValuePair<string, JobLifecycle>> changed, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            insert into promoter.job_lifecycles (job_id, state, updated_at)
            select job_id, state, now() from unnest(@ids, @states) as r(job_id, state)
            on conflict (job_id) do update set state = excluded.state, updated_at = now()
            """,
            transaction.Connection,
            transaction);
        command.Parameters.Add(new NpgsqlParameter<string[]>("ids", changed.Select(c => c.Key).ToArray()));
        command.Parameters.Add(new NpgsqlParameter("states", NpgsqlDbType.Array | NpgsqlDbType.Jsonb)
        {
            Value = changed.Select(c => JsonSerializer.Serialize(c.Value, Json)).ToArray(),
        });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
