using System.Diagnostics;
using Npgsql;
using Streaming.Bench.Workload;

namespace Streaming.Bench.Limits;

/// <summary>
/// What a hand-written consumer does: for each signal, one INSERT of the event and one UPDATE of the job's row, each
/// committed on its own, into the same table shapes.
/// </summary>
public static class NaiveBaseline
{
    public static async Task<Measurement> RunAsync(NpgsqlDataSource dataSource, SignalWorkload workload, int messages, CancellationToken cancellationToken)
    {
        await using (var create = dataSource.CreateCommand(
            """
            create schema if not exists bench;
            drop table if exists bench.events_naive;
            create table bench.events_naive (like es.events including all);
            drop table if exists bench.job_states_naive;
            create table bench.job_states_naive (job_id text primary key, phase text not null, last_seq bigint not null, metrics jsonb not null, updated_at timestamptz not null);
            """))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        var rows = CopyBaseline.Rows(workload, 0, messages);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var insert = new NpgsqlCommand(
            "insert into bench.events_naive (stream_id, version, event_id, type, data, metadata, seq, event_time) values ($1, $2, $3, 'signal-recorded/v1', $4::jsonb, $5::jsonb, $6, $7)",
            connection);
        await using var update = new NpgsqlCommand(
            """
            insert into bench.job_states_naive (job_id, phase, last_seq, metrics, updated_at) values ($1, 'shadow', $2, ($3::jsonb)->'metrics', now())
            on conflict (job_id) do update set last_seq = excluded.last_seq, metrics = excluded.metrics, updated_at = now()
            """,
            connection);
        var clock = Stopwatch.StartNew();
        foreach (var row in rows)
        {
            insert.Parameters.Clear();
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = row.StreamId });
            insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = row.Version });
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = row.EventId });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = row.Data });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = row.Metadata });
            insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = row.Seq });
            insert.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = row.EventTime.UtcDateTime });
            await insert.ExecuteNonQueryAsync(cancellationToken);
            update.Parameters.Clear();
            update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = row.StreamId });
            update.Parameters.Add(new NpgsqlParameter<long> { TypedValue = row.Seq });
            update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = row.Data });
            await update.ExecuteNonQueryAsync(cancellationToken);
        }
        return new Measurement("naive: INSERT + UPDATE per event", messages, clock.Elapsed);
    }
}
