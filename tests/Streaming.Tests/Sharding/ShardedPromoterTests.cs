using Npgsql;
using Streaming.Contracts;
using Streaming.Contracts.History;
using Streaming.Contracts.PhaseChanges;
using Streaming.Contracts.Signals;
using Streaming.Embedded.Broker;
using Streaming.EventStore;
using Streaming.Ingest.Appending;
using Streaming.Projections.Sharding;
using Streaming.Promoter.Decisions;
using Streaming.Promoter.Fleet;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;
using Streaming.Tests.Ownership;
using Xunit.Abstractions;

namespace Streaming.Tests.Sharding;

/// <summary>
/// A Promoter process of shard 1 alone (no Projector of that shard relays anything): it publishes its policy folder to
/// shard 0, copies it into shard 1 before deciding, and decides shard 1's jobs in shard 1, as one Promoter of one store does;
/// with several shards its breakers are fleet-wide (Owner mode), and the breaker reports of its jobs go to shard 0.
/// </summary>
public sealed class ShardedPromoterTests(TwoShardStore shards, ITestOutputHelper output) : IClassFixture<TwoShardStore>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_promoter_of_shard_1_publishes_its_policies_and_breaker_reports_to_shard_0_and_decides_shard_1s_jobs_in_shard_1()
    {
        // Given three jobs in each of shard 1's partitions (1 and 3) with 40 minutes of clean shadow signals in shard 1's log
        var jobs = TwoShardStore.Map.PartitionsOf(1).SelectMany(p => Enumerable.Range(0, 3).Select(_ => PartitionedDatabase.JobIn(p))).ToList();
        var signals = jobs.SelectMany(job => SignalFactory.Minutes(job, 0, 40, "shadow", SignalFactory.Good))
            .Select(signal => SignalToAppend.Of(SignalReadResult.Accepted(signal), default)).ToList();
        await new SignalLog(shards.Shard(1)).AppendSignalsAsync(signals, [], CancellationToken.None);

        // When a Promoter serves shard 1, without a group
        using var kafka = EmbeddedKafkaCluster.Start();
        foreach (var topic in new[] { Topics.Signals, Topics.PhaseChanges })
        {
            kafka.CreateTopic(topic, PartitionedDatabase.Partitions);
        }
        await using var promoter = ShardPromoter.Start(shards, kafka.BootstrapServers, shard: 1);

        // Then its tail follows shard 1's partitions and the control partition
        await Eventually.True(() => Task.FromResult(FollowedShare.Of(promoter).SetEquals([0, 1, 3])), Timeout, "the Promoter to follow 0, 1 and 3");

        // And each job is promoted once, in shard 1, at the signal that completed its 30-minute soak
        var store = new StoreProbe(shards.Shard(1));
        foreach (var job in jobs)
        {
            await Eventually.True(() => store.HasProcessedAsync(DecisionFold.CheckpointName, job), Timeout, $"the Promoter to process {job}");
            Assert.Equal([EventIds.ForDecision(job, 31)], await ShardPromoter.EventIdsAsync(shards.Shard(1), job, PhaseChanged.EventType));
            Assert.Empty(await ShardPromoter.EventIdsAsync(shards.Shard(0), job, null));
        }

        // And the policies it published are in shard 0, their home, and the same in shard 1
        var published = await PolicyEventsAsync(shards.Shard(0));
        Assert.NotEmpty(published);
        Assert.Equal(published, await PolicyEventsAsync(shards.Shard(1)));

        // And each job's move into reverse_shadow, a phase with a breaker, is reported once to the breaker's owner in shard
        // 0 (the control streams' home), not in shard 1, which gets the reports from the relay (here the test's, as shard
        // 1's Projectors do)
        var reports = BreakerCountReported.StreamFor("cdc-migration", "reverse_shadow");
        Assert.Equal(jobs.Count, (await ShardPromoter.EventIdsAsync(shards.Shard(0), reports, BreakerCountReported.EventType)).Count);
        Assert.Empty(await ShardPromoter.EventIdsAsync(shards.Shard(1), reports, null));

        // And when an operator trips the breaker in shard 0, shard 1 gets the trip and the reports from the relay, in shard 0's order
        var breaker = CircuitBreakerChanged.StreamFor("cdc-migration", "reverse_shadow");
        await new PauseWriter(new EventStreams(shards.Shard(0)), TimeProvider.System).TripBreakerAsync("cdc-migration", "reverse_shadow", "tests", "drill", CancellationToken.None);
        Assert.Equal(jobs.Count + 1, await new ControlRelay(shards.Shard(1), shards.Shard(0)).CatchUpAsync(CancellationToken.None));
        Assert.Equal(await ShardPromoter.EventIdsAsync(shards.Shard(0), reports, null), await ShardPromoter.EventIdsAsync(shards.Shard(1), reports, null));
        Assert.Equal(await ShardPromoter.EventIdsAsync(shards.Shard(0), breaker, null), await ShardPromoter.EventIdsAsync(shards.Shard(1), breaker, null));

        // Then the Promoter of shard 1 records no breaker change: the trip is for the owner of shard 0's control partition to record
        Assert.Empty(await ShardPromoter.EventIdsAsync(shards.Shard(0), breaker, CircuitBreakerChanged.EventType));
        Assert.DoesNotContain("[ERR]", promoter.Log, StringComparison.Ordinal);
        output.WriteLine(promoter.Log);
    }

    static async Task<List<(string Stream, long Version, Guid Id)>> PolicyEventsAsync(NpgsqlDataSource shard)
    {
        await using var command = shard.CreateCommand($"select stream_id, version, event_id from es.events where starts_with(stream_id, '{PolicyPublished.StreamPrefix}') order by global_position");
        var events = new List<(string, long, Guid)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            events.Add((reader.GetString(0), reader.GetInt64(1), reader.GetGuid(2)));
        }
        return events;
    }
}
