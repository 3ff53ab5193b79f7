using Streaming.Tests.Admissions;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;
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
    [Fact]
    public async Task Jobs_of_both_shards_never_hold_more_than_the_waves_cap_even_when_the_owner_is_killed()
    {
        // Given a Promoter process serving each shard, both with a policy whose wave lets 2 jobs into reverse_shadow
        using var folder = new TemporaryFolder();
        await File.WriteAllTextAsync(folder.PathOf("waves.yaml"), WaveInFlight.Policy);
        await using var promoters = await ShardPromoters.StartAsync(store, folder.Path, output.WriteLine);
        var jobs = Enumerable.Range(0, TwoShardStore.Partitions).SelectMany(p => Enumerable.Range(0, 3).Select(_ => PartitionedDatabase.JobIn(p))).ToList();

        // When 12 healthy jobs, 6 on each shard, signal once a minute in the phase they were last moved to until all are
        // promoted, and shard 0's Promoter is killed at minute 15 and started again
        for (var minute = 0; minute < 240; minute++)
        {
            if (minute == 15)
            {
                await promoters.KillAndRestartOwnerAsync();
                output.WriteLine($"minute {minute}: killed shard 0's Promoter, the owner of the control partition, and started it again");
            }
            if ((await promoters.PhasesAsync(jobs)).Values.All(phase => phase == "reverse_shadow"))
            {
                output.WriteLine($"every job promoted by minute {minute}");
                break;
            }
            await promoters.MinuteAsync(jobs, minute, "shadow", SignalFactory.Good);
        }

        // Then both shards' jobs were promoted, each with a slot of its own, and recomputed from both logs merged by commit
        // time (a grant is read before the promotion it lets through commits, and a slot is given back before the grant it
        // frees commits, so the merge keeps what caused what) never more than 2 slots were held nor 2 jobs promoted with a
        // slot not given back
        var (mostGranted, mostPromoted, promotions) = WaveInFlight.Walk(await store.CommittedEventsAsync(WaveInFlight.Types));
        output.WriteLine($"promotions into reverse_shadow: {promotions}; most slots held at once: {mostGranted}; most promoted and not released: {mostPromoted}");
        Assert.Equal(jobs.Count, promotions);
        Assert.InRange(mostGranted, 1, WaveInFlight.Cap);
        Assert.InRange(mostPromoted, 1, WaveInFlight.Cap);
    }
}
