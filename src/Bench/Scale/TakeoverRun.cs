using System.Diagnostics;
using Confluent.Kafka;
using Npgsql;
using Spectre.Console;
using Streaming.Bench.Delivery;
using Streaming.EventStore;

namespace Streaming.Bench.Scale;

/// <summary>
/// N processes of each service with background signals flowing (never promoted) and, every second, in each partition
/// the signal that decides one probe job's promotion; after a few seconds one Promoter is killed (SIGKILL, no
/// supervisor brings it back), and its partitions' decisions are timed until the others take them over.
/// </summary>
public static class TakeoverRun
{
    const int RoundsBeforeKill = 5;
    static readonly TimeSpan Round = TimeSpan.FromSeconds(1);

    public static async Task<TakeoverResult> RunAsync(ScaleSettings settings, DateTimeOffset start, CancellationToken cancellationToken)
    {
        var instances = settings.TakeoverInstances;
        await using var store = await ScaleStore.CreateAsync([settings.ShardConnectionStrings[0]], "scale_takeover", cancellationToken);
        await using var services = await ServiceSet.StartAsync(settings.Executables, store.ConnectionStrings, instances, cancellationToken);
        var victim = services.Role("promoter").First();
        using var watch = services.WatchExits(cancellationToken, victim.Name);
        var running = watch.Token;
        try
        {
            await store.WaitForSchemaAsync(running);
            await services.WaitForSharesAsync(TimeSpan.FromMinutes(2), running);

            var rounds = RoundsBeforeKill + settings.TakeoverSeconds;
            var probes = ProbesByPartition(rounds, start);
            using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
            {
                BootstrapServers = services.BootstrapServers,
                LingerMs = 5,
                EnableIdempotence = true,
                Partitioner = Partitioner.Murmur2Random,
            }).Build();
            AnsiConsole.MarkupLine($"[grey]soaking {probes.Sum(p => p.Count)} probe jobs[/] …");
            foreach (var probe in probes.SelectMany(p => p))
            {
                probe.ProduceSoak(producer);
            }
            var soaked = probes.Sum(p => p.Count) * (long)(ProbeJob.DecidingSeq - 1);
            while (await store.StoredAsync(running) < soaked)
            {
                await Task.Delay(50, running);
            }
            await store.WaitForCurrentAsync(TimeSpan.FromMinutes(5), running);

            var load = new BackgroundLoad(services.BootstrapServers, settings.Jobs, settings.TakeoverRate, start);
            using var stopLoad = CancellationTokenSource.CreateLinkedTokenSource(running);
            var loading = Task.Run(() => load.RunAsync(stopLoad.Token), running);
            var storedBefore = await store.StoredAsync(running);
            var loadClock = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(3), running);

            AnsiConsole.MarkupLine($"[grey]deciding a probe a second in each partition; {victim.Name} killed after {RoundsBeforeKill} s, then {settings.TakeoverSeconds} s more[/] …");
            IReadOnlyList<int>? moved = null;
            var killedAt = DateTimeOffset.MinValue;
            using var timer = new PeriodicTimer(Round);
            for (var round = 0; round < rounds; round++)
            {
                if (round == RoundsBeforeKill)
                {
                    moved = ServiceSet.Owned(victim) ?? throw new InvalidOperationException($"{victim.Name} never said which partitions it owns");
                    killedAt = DateTimeOffset.UtcNow;
                    victim.Child.Kill();
                }
                foreach (var partition in probes)
                {
                    partition[round].ProduceDecidingSignal(producer);
                }
                await timer.WaitForNextTickAsync(running);
            }
            var probed = probes.SelectMany(p => p).ToList();
            var deadline = DateTime.UtcNow.AddMinutes(1);
            while ((await store.CountAsync($"select count(distinct stream_id) from es.events where type = 'phase-changed/v1' and stream_id like '{ProbePrefix}%'", running)).Sum() < probed.Count
                && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, running);
            }
            var loadSeconds = loadClock.Elapsed.TotalSeconds;
            await stopLoad.CancelAsync();
            await loading;
            var backgroundStored = (await store.StoredAsync(running) - storedBefore) / loadSeconds;

            var decisions = await DecisionsAsync(store.Shards[0], running);
            var produced = probed.ToDictionary(p => p.JobId, p => p.DecidingProducedAt!.Value);
            var partitionOf = probes.SelectMany((p, partition) => p.Select(j => (j.JobId, partition))).ToDictionary(x => x.JobId, x => x.partition);
            var first = decisions.GroupBy(d => d.JobId).ToDictionary(g => g.Key, g => g.Min(d => d.CommittedAt));
            // Only a survivor can decide a signal produced after the kill: a decision of the killed Promoter whose COMMIT
            // was in flight can still be timestamped after it.
            var takeover = moved!.ToDictionary(p => p, p => first.Where(d => partitionOf[d.Key] == p && produced[d.Key] > killedAt)
                .Select(d => (double?)(d.Value - killedAt).TotalSeconds).DefaultIfEmpty(null).Min());
            var before = first.Where(d => produced[d.Key] < killedAt && d.Value < killedAt).Select(d => (d.Value - produced[d.Key]).TotalSeconds).Order().ToList();
            var others = first.Where(d => !moved!.Contains(partitionOf[d.Key]) && produced[d.Key] > killedAt).Select(d => (d.Value - produced[d.Key]).TotalSeconds).ToList();
            var assigned = services.Role("promoter").Where(p => p != victim)
                .SelectMany(p => p.Child.Lines().Where(l => l.At > killedAt && l.Line.Contains(" assigned partitions ", StringComparison.Ordinal)
                    && moved!.Any(m => ServiceSet.Owned(p, l.At.AddTicks(1))?.Contains(m) == true)))
                .Select(l => (double?)(l.At - killedAt).TotalSeconds).DefaultIfEmpty(null).Min();
            return new TakeoverResult(
                instances, victim.Name, moved!, takeover, assigned,
                before.Count == 0 ? null : before[before.Count / 2],
                others.Count == 0 ? null : others.Max(),
                probed.Count,
                probed.Count(p => !first.ContainsKey(p.JobId)),
                decisions.GroupBy(d => d.JobId).Count(g => g.Count() > 1),
                backgroundStored);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            services.ThrowIfOneExited(victim.Name);
            throw;
        }
    }

    const string ProbePrefix = "takeover-probe-";

    // As many probe jobs in each log partition as there are rounds, found by the store's own partitioner.
    static List<List<ProbeJob>> ProbesByPartition(int rounds, DateTimeOffset start)
    {
        var partitioner = new LogPartitioner(ScaleSettings.Partitions, []);
        var probes = Enumerable.Range(0, ScaleSettings.Partitions).Select(_ => new List<ProbeJob>()).ToList();
        for (var i = 0; probes.Any(p => p.Count < rounds); i++)
        {
            var jobId = ProbePrefix + i;
            var partition = probes[partitioner.PartitionOf(jobId)];
            if (partition.Count < rounds)
            {
                partition.Add(new ProbeJob(jobId, start));
            }
        }
        return probes;
    }

    sealed record Decision(string JobId, DateTimeOffset CommittedAt);

    static async Task<List<Decision>> DecisionsAsync(NpgsqlDataSource store, CancellationToken cancellationToken)
    {
        await using var command = store.CreateCommand($"""
            select e.stream_id, c.committed_at
              from es.events e
              join es.commits c on c.tx_id = e.tx_id and c.partition = e.partition
             where e.type = 'phase-changed/v1' and e.stream_id like '{ProbePrefix}%'
            """);
        var decisions = new List<Decision>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            decisions.Add(new Decision(reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1)));
        }
        return decisions;
    }
}
