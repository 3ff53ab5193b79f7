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
/// defaults, keys and indexes), one COPY and one commit per batch, as fast as PostgreSQL takes them.
/// </summary>
public static class CopyBaseline
{
    public static async Task<Measurement> RunAsync(NpgsqlDataSource dataSource, SignalWorkload workload, int rows, int batchSize, CancellationToken cancellationToken)
    {
        await using (var create = dataSource.CreateCommand(
            "create schema if not exists bench; drop table if exists bench.events_copy; create table bench.events_copy (like es.events including all)"))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        var batches = Enumerable.Range(0, (rows + batchSize - 1) / batchSize)
            .Select(b => Rows(workload, b * (long)batchSize, Math.Min(batchSize, rows - b * batchSize)))
            .ToList();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var clock = Stopwatch.StartNew();
        foreach (var batch in batches)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var importer = await connection.BeginBinaryImportAsync(
                "copy bench.events_copy (stream_id, version, event_id, type, data, metadata, seq, event_time) from stdin (format binary)",
                cancellationToken))
            {
                foreach (var row in batch)
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
            await transaction.CommitAsync(cancellationToken);
        }
        return new Measurement("PostgreSQL binary COPY", rows, clock.Elapsed);
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
