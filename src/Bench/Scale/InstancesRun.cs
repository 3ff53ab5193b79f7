using System.Diagnostics;
using Streaming.Bench.Cpu;
using Streaming.Bench.Pipeline;
using Streaming.Bench.Workload;

namespace Streaming.Bench.Scale;

/// <summary>
/// N processes of each service on a fresh store: a backlog of the workload's signals produced for the given time (as
/// fast as Ingest stores them, paced to the broker's retention), then timed until every fold is current, with the CPU
/// of every service process and of PostgreSQL, as the main bench counts it.
/// </summary>
public static class InstancesRun
{
    public static async Task<InstancesResult> RunAsync(ScaleSettings settings, int instances, DateTimeOffset start, CancellationToken cancellationToken)
    {
        await using var store = await ScaleStore.CreateAsync([settings.ShardConnectionStrings[0]], $"scale_n{instances}", cancellationToken);
        await using var services = await ServiceSet.StartAsync(settings.Executables, store.ConnectionStrings, instances, cancellationToken);
        using var watch = services.WatchExits(cancellationToken);
        var running = watch.Token;
        try
        {
            await store.WaitForSchemaAsync(running);
            await services.WaitForSharesAsync(TimeSpan.FromMinutes(2), running);
            var workload = new SignalWorkload(settings.Jobs, start);
            await using var cpu = await CpuSampler.StartAsync(store.Shards[0], [.. services.Processes.Select(p => p.Child.Id)], store.Database, running);
            var clock = Stopwatch.StartNew();
            var produced = await new PacedProducer(services.BootstrapServers, "job-signals", store.StoredOffsetsAsync)
                .ProduceAsync(workload, long.MaxValue, running, duration: TimeSpan.FromSeconds(settings.Seconds));
            var deadline = DateTime.UtcNow.AddMinutes(5);
            while (await store.StoredAsync(running) < produced && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20, running);
            }
            var ingested = clock.Elapsed;
            await store.WaitForCurrentAsync(TimeSpan.FromMinutes(10), running);
            var current = clock.Elapsed;
            var cpuUse = await cpu.StopAsync(produced);
            var rss = services.PeakRss();
            var stored = (await store.CountAsync("select count(*) from es.events where type = 'signal-recorded/v1'", running)).Sum();
            var decisions = (await store.CountAsync("select count(*) from es.events where type = 'phase-changed/v1'", running)).Sum();
            return new InstancesResult(instances, settings.Jobs, produced, ingested, current, decisions, produced - stored, cpuUse, rss);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            services.ThrowIfOneExited();
            throw;
        }
    }
}
