using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using Spectre.Console;
using Streaming.Bench.Limits;
using Streaming.Bench.MartenPeer;
using Streaming.Bench.Pipeline;
using Streaming.Bench.Surface;
using Streaming.Bench.Workload;
using Streaming.EventStore;
using Streaming.Hosting;
using Streaming.Embedded.Broker;
using Streaming.Hosting.Kafka;
using Streaming.Ingest;

namespace Streaming.Bench;

/// <summary>
/// <c>bench</c>: measures, in one run on this machine, the raw limits (bare consumer drain, binary COPY), a naive
/// baseline, our pipeline with 10,000 and 100,000 jobs, its projection rebuild, and Marten as a peer on the same
/// signals (appends, end to end with its async daemon, the daemon's rebuild), with the CPU each run took; prints a
/// table per run and writes JSON. <c>--runs N</c> repeats all of it and reports every run.
/// </summary>
static class BenchCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var settings = BenchSettings.Parse(args);
        if (Console.IsOutputRedirected)
        {
            // Written to a file or a pipe, the tables keep their rows on one line each.
            AnsiConsole.Profile.Width = 200;
        }
        using var cancellation = CtrlC.Cancels();
        var token = cancellation.Token;
        var clock = Stopwatch.StartNew();
        var reports = new List<BenchReport>();
        for (var run = 1; run <= settings.Runs; run++)
        {
            if (await RunOnceAsync(settings, run, token) is { } report)
            {
                report.Print();
                reports.Add(report);
            }
        }
        if (reports.Count == 0)
        {
            return 0;
        }
        var runs = new BenchRuns(
            $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB",
            string.Join(' ', ["./bench.sh", .. UserFlags(args)]),
            clock.Elapsed,
            reports);
        if (runs.Runs.Count > 1)
        {
            runs.PrintSummary();
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(settings.OutputFile))!);
        await File.WriteAllTextAsync(settings.OutputFile, JsonSerializer.Serialize(runs, BenchReport.JsonOptions), token);
        AnsiConsole.MarkupLine($"{runs.Runs.Count} run(s) in {runs.Elapsed.TotalMinutes:0.0} minutes; JSON written to [bold]{Markup.Escape(settings.OutputFile)}[/]");
        return runs.Valid ? 0 : 1;
    }

    /// <returns>The run's report; null when only the operator surface was measured (<c>--surface-only true</c>).</returns>
    static async Task<BenchReport?> RunOnceAsync(BenchSettings settings, int run, CancellationToken token)
    {
        var ranAt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var start = new DateTimeOffset(2026, 2, 2, 0, 0, 0, TimeSpan.Zero);
        await using var admin = BenchDatabases.Probe(settings.ConnectionString);
        if (settings.SurfaceOnly)
        {
            var only = new AllInOneRun(settings.EmbeddedDll, admin, settings.ConnectionString);
            await SurfaceStepAsync(only, settings, run, start, token);
            return null;
        }
        await BenchDatabases.RecreateAsync(admin, "bench_limits", token);
        await using var limits = BenchDatabases.Probe(BenchDatabases.On(settings.ConnectionString, "bench_limits"));
        await EventStoreSchema.MigrateAsync(limits, IngestSchema.Migrations, token);

        var workload = new SignalWorkload(10_000, start);
        Measurement drain, copy, copyAsFiled, naive;
        using (var cluster = EmbeddedKafkaCluster.Start())
        {
            drain = Step("bare consumer drain", () => BareConsumerDrain.Run(cluster.BootstrapServers, (t, p) => cluster.CreateTopic(t, p), workload, settings.LimitMessages));
        }
        copy = await StepAsync("binary COPY", () => CopyBaseline.RunAsync(limits, workload, settings.LimitMessages, 5000, token));
        copyAsFiled = await StepAsync("binary COPY, es.events as issue 19 found it", () => CopyBaseline.RunAsFiledAsync(limits, workload, settings.LimitMessages, 5000, token));
        naive = await StepAsync("naive baseline", () => NaiveBaseline.RunAsync(limits, workload, settings.NaiveMessages, token));
        // The baselines' million rows are not the system's to write back: dropped (their buffers with them) and the rest
        // flushed, so no checkpoint of theirs runs during the system's runs.
        await using (var cleanUp = limits.CreateCommand("drop schema bench cascade"))
        {
            await cleanUp.ExecuteNonQueryAsync(token);
        }
        await using (var checkpoint = admin.CreateCommand("checkpoint"))
        {
            await checkpoint.ExecuteNonQueryAsync(token);
        }

        var runner = new AllInOneRun(settings.EmbeddedDll, admin, settings.ConnectionString);
        var small = await StepAsync("ours, 10,000 jobs", () => runner.RunAsync("jobs_10k", new SignalWorkload(10_000, start), settings.PipelineMessages, token));
        var large = settings.Large ? await SurfaceStepAsync(runner, settings, run, start, token) : null;

        // The 10,000-job store: each job has a history there (100 signals at the default size), as a real store's jobs do.
        var rebuild = await StepAsync("projection rebuild", () => RebuildRun.RunAsync(
            "projection rebuild of the 10,000-job store", runner.ConnectionString("jobs_10k"), useArchive: true, token));
        var rebuildFromLog = await StepAsync("projection rebuild from the log alone", () => RebuildRun.RunAsync(
            "projection rebuild of the 10,000-job store, from the log alone (--no-archive)", runner.ConnectionString("jobs_10k"), useArchive: false, token));

        MartenReport? marten = null;
        if (settings.Marten)
        {
            var peer = new MartenPeerRun(settings.MartenDll!, admin, settings.ConnectionString);
            var appends = await StepAsync("Marten peer, appends alone", () => peer.AppendAsync("appends", "none", workload, settings.MartenMessages, token));
            var endToEnd = await StepAsync("Marten peer, raw-SQL projection alongside", () => peer.AppendAsync("sql", "sql", workload, settings.MartenMessages, token));
            var martenRebuild = await StepAsync("Marten daemon rebuild", () => peer.RebuildAsync("sql", "sql", "Marten daemon rebuild of the raw-SQL projection", token));
            MartenResult? aggregate = null;
            Measurement? aggregateRebuild = null;
            if (settings.MartenAggregate)
            {
                aggregate = await StepAsync("Marten peer, SingleStreamProjection alongside", () => peer.AppendAsync("aggregate", "aggregate", workload, settings.MartenMessages, token));
                aggregateRebuild = await StepAsync("Marten daemon rebuild of the SingleStreamProjection", () => peer.RebuildAsync("aggregate", "aggregate", "Marten daemon rebuild of the SingleStreamProjection", token));
            }
            marten = new MartenReport(appends, endToEnd, martenRebuild, aggregate, aggregateRebuild);
        }
        return BenchReport.Create(run, ranAt, clock.Elapsed, drain, copy, copyAsFiled, naive, small, large, rebuild, rebuildFromLog, marten);
    }

    // The 100,000-job run, with the operator surface measured on it before it stops (written to surface.json beside the
    // report; surface-N.json for run N of several).
    static async Task<PipelineResult> SurfaceStepAsync(AllInOneRun runner, BenchSettings settings, int run, DateTimeOffset start, CancellationToken token)
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
        var path = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(settings.OutputFile))!, settings.Runs > 1 ? $"surface-{run}.json" : "surface.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(surface, BenchReport.JsonOptions), token);
        return large;
    }

    // The flags given to bench.sh, without the paths it supplies itself.
    static IEnumerable<string> UserFlags(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] is "--postgres" or "--embedded" or "--marten")
            {
                i++;
            }
            else
            {
                yield return args[i];
            }
        }
    }

    static T Step<T>(string name, Func<T> run)
    {
        AnsiConsole.MarkupLine($"[grey]running[/] {Markup.Escape(name)} …");
        return run();
    }

    static Task<T> StepAsync<T>(string name, Func<Task<T>> run)
    {
        AnsiConsole.MarkupLine($"[grey]running[/] {Markup.Escape(name)} …");
        return run();
    }
}
