using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;
using Streaming.Bench.Limits;
using Streaming.Bench.Workload;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Ingest.Appending;

namespace Streaming.Bench.Append;

/// <summary>
/// Ingest's append against a binary COPY of the same rows, batch by batch on one server: each batch of signals (one per
/// job, as Kafka delivers them) is appended to <c>es.events</c> with its offsets, and the same rows are COPYed into a
/// table built like it, alternating which goes first; then the first batches are appended again (all duplicates).
/// </summary>
static class AppendVersusCopy
{
    const int Partitions = 6;
    const int WarmUp = 3;

    public static async Task<AppendComparison> RunAsync(NpgsqlDataSource dataSource, SignalWorkload workload, int batches, int batchSize, bool asynchronousCommit, CancellationToken cancellationToken)
    {
        await CopyBaseline.CreateTableAsync(dataSource, cancellationToken);
        var log = new SignalLog(dataSource);
        var offsets = new long?[Partitions];
        var appends = new List<TimeSpan>();
        var copies = new List<TimeSpan>();
        for (var b = 0; b < WarmUp + batches; b++)
        {
            var rows = CopyBaseline.Rows(workload, b * (long)batchSize, batchSize);
            List<SignalToAppend> signals = [.. rows.Select(ToSignal)];
            TimeSpan appended, copied;
            if (b % 2 == 0)
            {
                appended = await TimeAsync(() => AppendAsync(log, signals, b, batchSize, offsets, asynchronousCommit, cancellationToken));
                copied = await TimeAsync(() => CopyAsync(dataSource, rows, cancellationToken));
            }
            else
            {
                copied = await TimeAsync(() => CopyAsync(dataSource, rows, cancellationToken));
                appended = await TimeAsync(() => AppendAsync(log, signals, b, batchSize, offsets, asynchronousCommit, cancellationToken));
            }
            if (b >= WarmUp)
            {
                appends.Add(appended);
                copies.Add(copied);
            }
        }
        var redeliveries = new List<TimeSpan>();
        for (var b = 0; b < Math.Min(batches, 5); b++)
        {
            List<SignalToAppend> signals = [.. CopyBaseline.Rows(workload, b * (long)batchSize, batchSize).Select(ToSignal)];
            redeliveries.Add(await TimeAsync(() => log.AppendSignalsAsync(signals, [], cancellationToken)));
        }
        return new AppendComparison(batchSize, batches, appends, copies, redeliveries);
    }

    static async Task AppendAsync(
        SignalLog log, List<SignalToAppend> signals, int batch, int batchSize, long?[] offsets, bool asynchronousCommit, CancellationToken cancellationToken)
    {
        var partition = batch % Partitions;
        var next = (offsets[partition] ?? 0) + batchSize;
        var result = await log.AppendSignalsAsync(
            signals, [new KafkaOffsetAdvance("bench", "job-signals", partition, offsets[partition], next)], cancellationToken, asynchronousCommit);
        if (result.Outcomes.Any(o => o != SignalAppendOutcome.Appended))
        {
            throw new InvalidOperationException("the benchmark's batch was not all new signals");
        }
        offsets[partition] = next;
    }

    static async Task CopyAsync(NpgsqlDataSource dataSource, List<CopyBaseline.EventRow> rows, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await CopyBaseline.CopyAsync(connection, "bench.events_copy", rows, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    static SignalToAppend ToSignal(CopyBaseline.EventRow row) =>
        new(row.StreamId, row.Seq, row.EventId, SignalRecorded.EventType, row.Data, row.Metadata, row.EventTime);

    static async Task<TimeSpan> TimeAsync(Func<Task> work)
    {
        var clock = Stopwatch.StartNew();
        await work();
        return clock.Elapsed;
    }
}
