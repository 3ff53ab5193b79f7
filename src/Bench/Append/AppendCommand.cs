using System.Globalization;
using Npgsql;
using Spectre.Console;
using Streaming.Bench.Workload;
using Streaming.EventStore;
using Streaming.Hosting;
using Streaming.Ingest;

namespace Streaming.Bench.Append;

/// <summary>
/// <c>bench append --postgres CONN [--batches N] [--batch-size N] [--synchronous-commit on|off]</c>: Ingest's append
/// against a binary COPY of the same rows on a fresh database (<see cref="AppendVersusCopy"/>); prints the per-batch
/// medians. The append commits as Ingest does (<c>synchronous_commit</c> off) unless told <c>on</c>; the COPY always waits.
/// </summary>
static class AppendCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var flags = new BenchFlags(args);
        var connectionString = flags.Required("postgres");
        var batches = flags.Number("batches", 30);
        var batchSize = flags.Number("batch-size", 4200);
        var asynchronousCommit = flags.Text("synchronous-commit", "off") switch
        {
            "off" => true,
            "on" => false,
            var other => throw new BenchUsageException($"--synchronous-commit is on or off, not {other}"),
        };
        using var cancellation = CtrlC.Cancels();

        await using (var admin = NpgsqlDataSource.Create(connectionString))
        await using (var reset = admin.CreateCommand("drop database if exists bench_append with (force); create database bench_append"))
        {
            await reset.ExecuteNonQueryAsync(cancellation.Token);
        }
        await using var dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { Database = "bench_append" }.ConnectionString);
        await EventStoreSchema.MigrateAsync(dataSource, IngestSchema.Migrations, cancellation.Token);
        var workload = new SignalWorkload(10_000, new DateTimeOffset(2026, 2, 2, 0, 0, 0, TimeSpan.Zero));
        var result = await AppendVersusCopy.RunAsync(dataSource, workload, batches, batchSize, asynchronousCommit, cancellation.Token);

        var table = new Table().AddColumns("per batch of " + batchSize.ToString("N0", CultureInfo.InvariantCulture), "median ms", "µs per row");
        foreach (var (name, times) in new[] { ($"Ingest's append (lock, classify, COPY, heads, offsets; synchronous_commit {(asynchronousCommit ? "off" : "on")})", result.Appends), ("binary COPY of the same rows", result.Copies), ("the same batch again (all duplicates)", result.Redeliveries) })
        {
            var median = AppendComparison.MedianMilliseconds(times);
            table.AddRow(name, median.ToString("0.0", CultureInfo.InvariantCulture), (median * 1000 / batchSize).ToString("0.0", CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"append / COPY: [bold]{result.Ratio.ToString("0.00", CultureInfo.InvariantCulture)}[/] (medians of {batches} batches)");
        return 0;
    }
}
