using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;
using Streaming.Bench.Workload;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.Signals;

namespace Streaming.Bench.Limits;

/// <summary>
/// The storage limit: binary COPY of the same event rows into a table identical to <c>es.events</c> (same columns,
/// defaults, keys and indexes), one COPY and one commit per batch, as fast as PostgreSQL takes them; and the same into
/// <c>es.events</c> as it was when issue 19 set its target against this baseline (<see cref="AsFiledTable"/>).
/// </summary>
public static class CopyBaseline
{
    /// <summary>
    /// <c>es.events</c> as it was at 85ada2e, when issue 19 measured the baseline its throughput target is stated against
    /// (46,257 rows/s): four B-tree indexes per row, a required metadata body. The leaner table since makes COPY into
    /// <c>es.events</c> as it is now cheaper too, so that baseline moves with the work the target measures.
    /// </summary>
    const string AsFiledTable = """
        create table bench.events_copy_as_filed (
            global_position bigint generated always as identity primary key,
            tx_id           xid8 not null default pg_current_xact_id(),
            stream_id       text not null,
            version         bigint not null check (version >= 1),
            event_id        uuid not null,
            type            text not null,
            data            json not null,
            metadata        json not null,
            seq             bigint,
            event_time      timestamptz not null,
            recorded_at     timestamptz not null default now(),
            constraint events_copy_as_filed_stream_version_key unique (stream_id, version),
            constraint events_copy_as_filed_event_id_key unique (event_id)
        );
        create index events_copy_as_filed_tail_idx on bench.events_copy_as_filed (tx_id, global_position);
        """;

    public static async Task<Measurement> RunAsync(NpgsqlDataSource dataSource, SignalWorkload workload, int rows, int batchSize, CancellationToken cancellationToken)
    {
        await CreateTableAsync(dataSource, cancellationToken);
        return await CopyAllAsync(dataSource, "PostgreSQL binary COPY", "bench.events_copy", workload, rows, batchSize, cancellationToken);
    }

    /// <summary>The same COPY into <c>es.events</c> as issue 19 found it (<see cref="AsFiledTable"/>).</summary>
    public static async Task<Measurement> RunAsFiledAsync(NpgsqlDataSource dataSource, SignalWorkload workload, int rows, int batchSize, CancellationToken cancellationToken)
    {
        await using (var create = dataSource.CreateCommand($"create schema if not exists bench; drop table if exists bench.events_copy_as_filed; {AsFiledTable}"))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        return await CopyAllAsync(dataSource, "PostgreSQL binary COPY, es.events as issue 19 found it", "bench.events_copy_as_filed", workload, rows, batchSize, cancellationToken);
    }

    static async Task<Measurement> CopyAllAsync(
        NpgsqlDataSource dataSource, string name, string table, SignalWorkload workload, int rows, int batchSize, CancellationToken cancellationToken)
    {
        var batches = Enumerable.Range(0, (rows + batchSize - 1) / batchSize)
            .Select(b => Rows(workload, b * (long)batchSize, Math.Min(batchSize, rows - b * batchSize)))
            .ToList();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var clock = Stopwatch.StartNew();
        foreach (var batch in batches)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await CopyAsync(connection, table, batch, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        return new Measurement(name, rows, clock.Elapsed);
    }

    /// <summary>Creates (again) <c>bench.events_copy</c>, a table with the columns, defaults, keys and indexes of <c>es.events</c>.</summary>
    internal static async Task CreateTableAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var create = dataSource.CreateCommand(
            "create schema if not exists bench; drop table if exists bench.events_copy; create table bench.events_copy (like es.events including all)");
        await create.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Binary COPY of the rows into <paramref name="table"/> (shaped like <c>es.events</c>), in the connection's transaction.</summary>
    internal static async Task CopyAsync(NpgsqlConnection connection, string table, List<EventRow> rows, CancellationToken cancellationToken)
    {
        await using var importer = await connection.BeginBinaryImportAsync(
            $"copy {table} (stream_id, version, event_id, type, data, metadata, seq, event_time) from stdin (format binary)", cancellationToken);
        foreach (var row in rows)
        {
            await importer.StartRowAsync(cancellationToken);
            await importer.WriteAsync(row.StreamId, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(row.Version, NpgsqlDbType.Bigint, cancellationToken);
            await importer.WriteAsync(row.EventId, NpgsqlDbType.Uuid, cancellationToken);
            await importer.WriteAsync(SignalRecorded.EventType, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(row.Data, NpgsqlDbType.Json, cancellationToken);
            await importer.WriteAsync(row.Metadata, NpgsqlDbType.Json, cancellationToken);
            await importer.WriteAsync(row.Seq, NpgsqlDbType.Bigint, cancellationToken);
            await importer.WriteAsync(row.EventTime.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
        }
        await importer.CompleteAsync(cancellationToken);
    }

    internal static List<EventRow> Rows(SignalWorkload workload, long first, int count)
    {
        var rows = new List<EventRow>(count);
        for (var n = first; n < first + count; n++)
        {
            var (_, value) = workload.Message(n);
            var signal = JobSignalReader.Read(System.Text.Encoding.UTF8.GetBytes(SignalWorkload.JobId((int)(n % workload.Jobs))), value).Signal!;
            var recorded = new SignalRecorded(signal.JobId, signal.Seq, signal.EmittedAt, signal.Phase, signal.Metrics, signal.Labels, signal.CorrelationId);
            rows.Add(new EventRow(
                signal.JobId,
                signal.Seq,
                EventIds.ForSignal(signal.JobId, signal.Seq),
                ContractsJson.Serialize(recorded),
                ContractsJson.Serialize(new EventMetadata(signal.CorrelationId, new KafkaSource("job-signals", (int)(n % 12), n))),
                signal.Seq,
                signal.EmittedAt));
        }
        return rows;
    }

    internal sealed record EventRow(string StreamId, long Version, Guid EventId, string Data, string Metadata, long Seq, DateTimeOffset EventTime);
}
