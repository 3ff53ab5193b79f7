using System.Diagnostics;
using Spectre.Console;
using Streaming.Bench.Workload;

namespace Streaming.Bench.Scale;

/// <summary>
/// The simulated fleet as <c>./run.sh --shards S --instances N</c> runs it (N Ingest processes, and N Projectors and N
/// Promoters per shard, a PostgreSQL cluster per shard): one signal from every job, as fast as Ingest stores them, then the workload's next
/// signals for the given time; timed until every shard's folds are current.
/// </summary>
public static class FleetRun
{
    public static async Task<FleetResult> RunAsync(ScaleSettings settings, DateTimeOffset start, CancellationToken cancellationToken)
    {
        var shards = settings.ShardConnectionStrings.Count;
        await using var store = await ScaleStore.CreateAsync(settings.ShardConnectionStrings, "scale_fleet", cancellationToken);
        await using var services = await ServiceSet.StartAsync(settings.Executables, store.ConnectionStrings, settings.FleetInstances, cancellationToken);
        using var watch = services.WatchExits(cancellationToken);
        var running = watch.Token;
        try
        {
            await store.WaitForSchemaAsync(running);
            await services.WaitForSharesAsync(TimeSpan.FromMinutes(2), running);
            var workload = new SignalWorkload(settings.FleetJobs, start);
            var producer = new PacedProducer(services.BootstrapServers, "job-signals", store.StoredOffsetsAsync);
            var clock = Stopwatch.StartNew();
            var signals = await producer.ProduceAsync(workload, settings.FleetJobs, running);
            var filled = clock.Elapsed;
            AnsiConsole.MarkupLine($"[grey]a signal of each of the {settings.FleetJobs:N0} jobs produced in {filled.TotalSeconds:0} s (paced by what Ingest stored); steady load for {settings.FleetSeconds} s[/] …");
            signals += await producer.ProduceAsync(workload, long.MaxValue, running, first: settings.FleetJobs, duration: TimeSpan.FromSeconds(settings.FleetSeconds));
            var deadline = DateTime.UtcNow.AddMinutes(10);
            while (await store.StoredAsync(running) < signals && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, running);
            }
            await store.WaitForCurrentAsync(TimeSpan.FromMinutes(20), running);
            var current = clock.Elapsed;
            var peaks = services.PeakRss();
            var held = services.Rss();
            const string jobs = "like 'bench-%'";
            var events = await store.CountAsync("select count(*) from es.events where type = 'signal-recorded/v1'", running);
            var streams = await store.CountAsync($"select count(*) from es.streams where stream_id {jobs}", running);
            var states = await store.CountAsync($"select count(*) from projections.job_states where job_id {jobs}", running);
            var promoter = await store.CountAsync($"select count(*) from promoter.job_lifecycle_snapshots where job_id {jobs}", running);
            var decisions = await store.CountAsync("select count(*) from es.events where type = 'phase-changed/v1'", running);
            var rows = Enumerable.Range(0, shards).Select(s => new ShardRows(s, events[s], streams[s], states[s], promoter[s], decisions[s])).ToList();
            return new FleetResult(settings.FleetJobs, shards, settings.FleetInstances, signals, filled, current, peaks, held, rows);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            services.ThrowIfOneExited();
            throw;
        }
    }
}
