using System.Globalization;
using System.Text.Json;
using Npgsql;
using Spectre.Console;
using Streaming.Bench.Limits;
using Streaming.Bench.Pipeline;
using Streaming.Bench.Surface;
using Streaming.Bench.Workload;
using Streaming.EventStore;
using Streaming.Hosting;
using Streaming.Hosting.Kafka;

namespace Streaming.Bench;

/// <summary>
/// <c>bench</c>: measures, in one run on this machine, the raw limits (bare consumer drain, binary COPY), a naive
/// baseline, and our pipeline with 10,000 and 100,000 jobs; prints a table and writes JSON.
/// </summary>
static class BenchCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var settings = BenchSettings.Parse(args);
        using var cancellation = CtrlC.Cancels();
        var token = cancellation.Token;
        var start = new DateTimeOffset(2026, 2, 2, 0, 0, 0, TimeSpan.Zero);

        await using var admin = NpgsqlDataSource.Create(settings.ConnectionString);
        if (settings.SurfaceOnly)
        {
            var only = new AllInOneRun(settings.EmbeddedDll, admin, settings.ConnectionString);
            await SurfaceStepAsync(only, settings, start, token);
            return 0;
        }
        var limitsDatabase = await FreshDatabaseAsync(admin, settings.ConnectionString, "bench_limits", token);
        await using var limits = NpgsqlDataSource.Create(limitsDatabase);
        await EventStoreSchema.MigrateAsync(limits, token);

        var workload = new SignalWorkload(10_000, start);
        Measurement drain, copy, naive;
        using (var cluster = EmbeddedKafkaCluster.Start())
        {
            drain = Step("bare consumer drain", () => BareConsumerDrain.Run(cluster.BootstrapServers, (t, p) => cluster.CreateTopic(t, p), workload, settings.LimitMessages));
        }
        copy = await StepAsync("binary COPY", () => CopyBaseline.RunAsync(limits, workload, settings.LimitMessages, 5000, token));
        naive = await StepAsync("naive baseline", () => NaiveBaseline.RunAsync(limits, workload, settings.NaiveMessages, token));

        var runner = new AllInOneRun(settings.EmbeddedDll, admin, settings.ConnectionString);
        var small = await StepAsync("ours, 10,000 jobs", () => runner.RunAsync("jobs_10k", new SignalWorkload(10_000, start), settings.PipelineMessages, token));
        var large = await SurfaceStepAsync(runner, settings, start, token);

        // The 10,000-job store: each job has a history there (20 signals at the default size), as a real store's jobs do.
        var rebuild = await StepAsync("projection rebuild", () => RebuildRun.RunAsync(
            "projection rebuild of the 10,000-job store", runner.ConnectionString("jobs_10k"), useArchive: true, token));
        var rebuildFromLog = await StepAsync("projection rebuild from the log alone", () => RebuildRun.RunAsync(
            "projection rebuild of the 10,000-job store, from the log alone (--no-archive)", runner.ConnectionString("jobs_10k"), useArchive: false, token));

        var report = BenchReport.Create(drain, copy, naive, small, large, rebuild, rebuildFromLog);
        report.Print();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(settings.OutputFile))!);
        await File.WriteAllTextAsync(settings.OutputFile, JsonSerializer.Serialize(report, BenchReport.JsonOptions), token);
        AnsiConsole.MarkupLine($"JSON written to [bold]{Markup.Escape(settings.OutputFile)}[/]");
        return report.Valid ? 0 : 1;
    }

    // The 100,000-job run, with the operator surface measured on it before it stops (written to surface.json beside the report).
    static async Task<PipelineResult> SurfaceStepAsync(AllInOneRun runner, BenchSettings settings, DateTimeOffset start, CancellationToken token)
    {
        var workload = new SignalWorkload(100_000, start);
        SurfaceResult? surface = null;
        var large = await StepAsync("ours, 100,000 jobs, then the operator surface", () => runner.RunAsync("jobs_100k", workload, settings.PipelineMessages, token,
            async (endpoints, bootstrap, running) => surface = await SurfaceRun.RunAsync(endpoints, bootstrap, workload, settings.PipelineMessages, running)));
        var table = new Table().AddColumns("operator surface, 100,000 jobs, ingest running", "samples", "p50 ms", "p95 ms", "max ms");
        foreach (var (name, latency) in new[] { ("jobs page (50 rows)", surface!.JobsPage), ("job detail", surface.JobDetail),
            ("fleet summary (computed afresh)", surface.FleetSummary), ("decision → open fleet page", surface.DecisionToFleetPage) })
        {
            table.AddRow(name, latency.Samples.ToString(CultureInfo.InvariantCulture), latency.P50.ToString("0", CultureInfo.InvariantCulture),
                latency.P95.ToString("0", CultureInfo.InvariantCulture), latency.Max.ToString("0", CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"{surface.SignalsDuringMeasurement:N0} signals ingested during the {surface.Seconds:0} s measurement");
        var path = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(settings.OutputFile))!, "surface.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(surface, BenchReport.JsonOptions), token);
        return large;
    }

    static T Step<T>(string name, Func<T> run)
    {
        AnsiConsole.MarkupLine($"[grey]running[/] {name} …");
        return run();
    }

    static Task<T> StepAsync<T>(string name, Func<Task<T>> run)
    {
        AnsiConsole.MarkupLine($"[grey]running[/] {name} …");
        return run();
    }

    static async Task<string> FreshDatabaseAsync(NpgsqlDataSource admin, string connectionString, string name, CancellationToken token)
    {
        await using (var drop = admin.CreateCommand("drop database if exists " + name + " with (force)"))
        {
            await drop.ExecuteNonQueryAsync(token);
        }
        await using (var create = admin.CreateCommand("create database " + name))
        {
            await create.ExecuteNonQueryAsync(token);
        }
        return new NpgsqlConnectionStringBuilder(connectionString) { Database = name }.ConnectionString;
    }
}
