using Streaming.Contracts.History;
using Streaming.Tests.Admissions;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Streaming.Tests.Sharding;

/// <summary>
/// A circuit breaker over a store of two shards, a Promoter process serving each (Owner mode): demotions on both shards,
/// neither of which holds <c>minJobs</c> jobs, open it on the fleet's counts, which shard 1's Promoter reports to shard
/// 0's, the owner of the control partition; both hold promotions into the phase until the owner closes it, even when the
/// owner is killed (SIGKILL) and started again while it is open.
/// </summary>
public sealed class ShardedBreakerTests(TwoShardStore store, ITestOutputHelper output) : IClassFixture<TwoShardStore>
{
    [Fact]
    public async Task Jobs_of_both_shards_are_held_by_a_breaker_opened_on_the_fleets_demotions_until_the_owner_closes_it_even_when_it_is_killed()
    {
        // Given a Promoter process serving each shard, with a breaker on reverse_shadow that counts from 10 jobs
        using var folder = new TemporaryFolder();
        await File.WriteAllTextAsync(folder.PathOf("breakers.yaml"), BreakerWalk.Policy);
        await using var promoters = await ShardPromoters.StartAsync(store, folder.Path, output.WriteLine);
        var partitions = Enumerable.Range(0, TwoShardStore.Partitions).ToList();
        var inB = partitions.SelectMany(p => Enumerable.Range(0, 3).Select(_ => PartitionedDatabase.JobIn(p))).ToList();
        var inA = partitions.Select(PartitionedDatabase.JobIn).ToList();
        // One of reverse_shadow's jobs in each partition fails: each shard (6 jobs, fewer than 10) demotes two.
        var failing = partitions.Select(p => inB[p * 3]).ToList();

        // When 12 jobs, 6 on each shard, report reverse_shadow for three minutes and four of them, two on each shard, fail
        // at minute 3
        for (var minute = 0; minute < 3; minute++)
        {
            await promoters.MinuteAsync(inB, minute, "reverse_shadow", SignalFactory.Good);
        }
        await promoters.MinuteAsync(failing, 3, "reverse_shadow", SignalFactory.Failing);

        // Then the owner opens the breaker on the fleet's counts: 4 demotions of the 12 jobs reverse_shadow held
        await Eventually.True(async () => (await BreakerWalk.ChangesAsync(store.Shard(0))).Count == 1, ShardPromoters.Timeout, "the owner to open the breaker");
        var opened = (await BreakerWalk.ChangesAsync(store.Shard(0)))[0];
        Assert.Equal((CircuitBreakerChanged.Open, 4, 8), (opened.State, opened.Demotions, opened.Jobs));

        // When 4 healthy jobs in shadow, two on each shard, signal once a minute from minute 4 until all are promoted, and
        // shard 0's Promoter is killed at minute 20, while the breaker is open, and started again
        for (var minute = 4; minute < 150; minute++)
        {
            if (minute == 20)
            {
                await promoters.KillAndRestartOwnerAsync();
                output.WriteLine($"minute {minute}: killed shard 0's Promoter, the owner of the control partition, and started it again");
            }
            if ((await promoters.PhasesAsync(inA)).Values.All(phase => phase == "reverse_shadow"))
            {
                output.WriteLine($"every job promoted by minute {minute}");
                break;
            }
            await promoters.MinuteAsync(inA, minute, "shadow", SignalFactory.Good);
        }

        // Then the breaker was closed once, after the demotions had aged an hour, and walking both shards' logs merged by
        // commit time every promotion into reverse_shadow came after the close, and each job was held with cause breaker
        var changes = await BreakerWalk.ChangesAsync(store.Shard(0));
        Assert.Equal([CircuitBreakerChanged.Open, CircuitBreakerChanged.Closed], changes.Select(c => c.State));
        Assert.True(changes[1].At >= SignalFactory.Start.AddMinutes(63), $"closed at {changes[1].At:u}");
        var (promotedBeforeClose, promotedAfterClose, held) = BreakerWalk.Promotions(await store.CommittedEventsAsync(BreakerWalk.Types), inA);
        output.WriteLine($"breaker opened at {changes[0].At:u}, closed at {changes[1].At:u}; promotions into reverse_shadow before the close: " +
            $"{promotedBeforeClose}, after: {promotedAfterClose}; held: {string.Join(", ", held)}");
        Assert.Equal(0, promotedBeforeClose);
        Assert.Equal(inA.Count, promotedAfterClose);
        Assert.Equal(inA.Count, held.Count);
    }
}
