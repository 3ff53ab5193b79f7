using Npgsql;
using Streaming.Contracts;
using Streaming.Contracts.Signals;
using Streaming.Embedded.Broker;
using Streaming.Ingest.Appending;
using Streaming.Projections.Sharding;
using Streaming.Promoter.Decisions;
using Streaming.Tests.Admissions;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;
using Streaming.Tests.Ownership;
using Xunit.Abstractions;

namespace Streaming.Tests.Sharding;

/// <summary>
/// A wave capped at 2 over a store of two shards, a Promoter process serving each (Owner mode): the jobs of both shards
/// ask shard 0's Promoter, the owner of the control partition, for slots, and recomputed from both shards' logs merged by
/// their commit times, never more than 2 jobs hold a slot or are promoted into the phase and not released, even when
/// the owner is killed (SIGKILL) and started again halfway.
/// </summary>
public sealed class ShardedWaveTests(TwoShardStore store, ITestOutputHelper output) : IClassFixture<TwoShardStore>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Jobs_of_both_shards_never_hold_more_than_the_waves_cap_even_when_the_owner_is_killed()
    {
        // Given a Promoter process serving each shard, both with a policy whose wave lets 2 jobs into reverse_shadow, and
        // the relay that copies the control streams into shard 1 (the Projector's, run here); each writes its checkpoint
        // 200 ms after a quiet moment, which each minute of the test waits for
        using var folder = new TemporaryFolder();
        await File.WriteAllTextAsync(folder.PathOf("waves.yaml"), WaveInFlight.Policy);
        var settings = new Dictionary<string, string> { ["Promoter__PolicyDirectory"] = folder.Path, ["Promoter__StateWriteInterval"] = "00:00:00.200" };
        using var kafka = EmbeddedKafkaCluster.Start();
        foreach (var topic in new[] { Topics.Signals, Topics.PhaseChanges })
        {
            kafka.CreateTopic(topic, PartitionedDatabase.Partitions);
        }
        var relay = new ControlRelay(store.Shard(1), store.Shard(0));
        var promoters = new[] { ShardPromoter.Start(store, kafka.BootstrapServers, 0, settings), ShardPromoter.Start(store, kafka.BootstrapServers, 1, settings) };
        try
        {
            await Eventually.True(() => Task.FromResult(FollowedShare.Of(promoters[0]).SetEquals([0, 2])), Timeout, "shard 0's Promoter to follow 0 and 2");
            await Eventually.True(() => Task.FromResult(FollowedShare.Of(promoters[1]).SetEquals([0, 1, 3])), Timeout, "shard 1's Promoter to follow 0, 1 and 3");
            var jobs = Enumerable.Range(0, TwoShardStore.Partitions).SelectMany(p => Enumerable.Range(0, 3).Select(_ => PartitionedDatabase.JobIn(p))).ToList();

            // When 12 healthy jobs, 6 on each shard, signal once a minute in the phase they were last moved to until all are
            // promoted, and shard 0's Promoter is killed at minute 15 and started again
            for (var minute = 0; minute < 240; minute++)
            {
                if (minute == 15)
                {
                    await promoters[0].KillAsync();
                    output.WriteLine($"minute {minute}: killed shard 0's Promoter, the owner of the control partition");
                    await promoters[0].DisposeAsync();
                    promoters[0] = ShardPromoter.Start(store, kafka.BootstrapServers, 0, settings);
                }
                var phases = await PhasesAsync(jobs);
                if (phases.Values.All(phase => phase == "reverse_shadow"))
                {
                    output.WriteLine($"every job promoted by minute {minute}");
                    break;
                }
                foreach (var shard in Enumerable.Range(0, 2))
                {
                    var signals = jobs.Where(job => TwoShardStore.ShardOf(job) == shard)
                        .Select(job => SignalFactory.Signal(job, minute + 1, SignalFactory.Start.AddMinutes(minute), phases[job], SignalFactory.Good))
                        .Select(signal => SignalToAppend.Of(SignalReadResult.Accepted(signal), default)).ToList();
                    await new SignalLog(store.Shard(shard)).AppendSignalsAsync(signals, [], CancellationToken.None);
                }
                foreach (var job in jobs)
                {
                    var probe = new StoreProbe(store.Shard(TwoShardStore.ShardOf(job)));
                    await Eventually.True(
                        async () => await relay.CatchUpAsync(CancellationToken.None) >= 0 && await probe.HasProcessedAsync(DecisionFold.CheckpointName, job),
                        Timeout, $"the Promoters to process {job} at minute {minute}");
                }
            }

            // Then both shards' jobs were promoted, each with a slot of its own, and recomputed from both logs in commit
            // order never more than 2 slots were held nor 2 jobs promoted with a slot not given back
            var (mostGranted, mostPromoted, promotions) = await InFlightAsync();
            output.WriteLine($"promotions into reverse_shadow: {promotions}; most slots held at once: {mostGranted}; most promoted and not released: {mostPromoted}");
            Assert.Equal(jobs.Count, promotions);
            Assert.InRange(mostGranted, 1, WaveInFlight.Cap);
            Assert.InRange(mostPromoted, 1, WaveInFlight.Cap);
        }
        finally
        {
            foreach (var promoter in promoters)
            {
                output.WriteLine(promoter.Log);
                await promoter.DisposeAsync();
            }
        }
    }

    async Task<Dictionary<string, string>> PhasesAsync(IReadOnlyList<string> jobs) =>
        await WaveInFlight.PhasesAsync(store.Shard(1), jobs, await WaveInFlight.PhasesAsync(store.Shard(0), jobs));

    // Both shards' grants, releases and promotions (shard 1's copies of the control partition left out), merged by the
    // time each commit was recorded (one machine, one clock): a grant is read before the promotion it lets through commits,
    // and a slot is given back before the grant it frees commits, so the merge keeps what caused what.
    async Task<(int MostGranted, int MostPromoted, int Promotions)> InFlightAsync()
    {
        var events = new List<(DateTimeOffset At, int Shard, long Position, string Type, string Data)>();
        foreach (var shard in Enumerable.Range(0, 2))
        {
            await using var command = store.Shard(shard).CreateCommand(
                """
                select c.committed_at, e.global_position, e.type, e.data::text
                from es.events e join es.commits c on c.tx_id = e.tx_id and c.partition = e.partition
                where e.type = any($1) and ($2 or e.partition <> 0)
                """);
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = WaveInFlight.Types });
            command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = shard == 0 });
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                events.Add((reader.GetFieldValue<DateTimeOffset>(0), shard, reader.GetInt64(1), reader.GetString(2), reader.GetString(3)));
            }
        }
        return WaveInFlight.Walk(events.OrderBy(e => e.At).ThenBy(e => e.Shard).ThenBy(e => e.Position).Select(e => (e.Type, e.Data)));
    }
}
