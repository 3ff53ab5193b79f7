using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Projections.Sharding;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Sharding;

/// <summary>The relay of the control streams from shard 0 into another shard, on two PostgreSQL clusters.</summary>
public sealed class ControlRelayTests(TwoShardStore shards) : IClassFixture<TwoShardStore>
{
    [Fact]
    public async Task Two_relays_at_once_copy_every_control_event_into_the_other_shard_once_in_shard_0s_commit_order_with_its_ids_and_versions()
    {
        // Given shard 0 with control events in several streams and transactions, between job events of partition 0 (which stay)
        var run = Guid.NewGuid().ToString("N")[..8];
        var home = new EventStreams(shards.Shard(0));
        var job = PartitionedDatabase.JobIn(LogPartitioner.ControlPartition);
        await AppendRoundAsync(home, run, job, 0);
        await AppendRoundAsync(home, run, job, 1);

        // When two relays into shard 1 catch up at once (in batches of 3 events, so they take turns many times)
        var first = new ControlRelay(shards.Shard(1), shards.Shard(0), batchSize: 3);
        var second = new ControlRelay(shards.Shard(1), shards.Shard(0), batchSize: 3);
        var copied = await Task.WhenAll(first.CatchUpAsync(CancellationToken.None), second.CatchUpAsync(CancellationToken.None));

        // Then shard 1's control partition holds shard 0's control events, each once, as shard 0 has them and in its order
        var expected = await ControlEventsAsync(shards.Shard(0), run);
        Assert.Equal(expected.Count, copied.Sum());
        Assert.Equal(expected, await ControlEventsAsync(shards.Shard(1), run));
        Assert.Equal(0L, await new EventStreams(shards.Shard(1)).ReadVersionAsync(job, CancellationToken.None));

        // And when more are appended, the relays copy those alone, and then nothing
        await AppendRoundAsync(home, run, job, 2);
        var more = await Task.WhenAll(first.CatchUpAsync(CancellationToken.None), second.CatchUpAsync(CancellationToken.None));
        expected = await ControlEventsAsync(shards.Shard(0), run);
        Assert.Equal(4, more.Sum());
        Assert.Equal(expected, await ControlEventsAsync(shards.Shard(1), run));
        Assert.Equal(0, await new ControlRelay(shards.Shard(1), shards.Shard(0)).CatchUpAsync(CancellationToken.None));
    }

    // A policy version, a known issue opened and resolved in one transaction, and a breaker change, with a job's events between.
    static async Task AppendRoundAsync(EventStreams home, string run, string job, int round)
    {
        await home.AppendToStreamAsync(PolicyPublished.StreamFor($"relayed-{run}"), ExpectedVersion.Any, [SampleEvents.Event("policy-published")], CancellationToken.None);
        await home.AppendToStreamAsync(job, ExpectedVersion.Any, SampleEvents.Events(4), CancellationToken.None);
        await home.InTransactionAsync(transaction => home.AppendEachOnceAsync(transaction,
            [(KnownIssueOpened.StreamFor($"{run}-{round}"), SampleEvents.Event("known-issue-opened")), (KnownIssueOpened.StreamFor($"{run}-{round}"), SampleEvents.Event("known-issue-resolved"))],
            CancellationToken.None), CancellationToken.None);
        await home.AppendToStreamAsync(job, ExpectedVersion.Any, SampleEvents.Events(2), CancellationToken.None);
        await home.AppendToStreamAsync(CircuitBreakerChanged.StreamFor($"relayed-{run}", "canary"), ExpectedVersion.Any, [SampleEvents.Event("circuit-breaker-changed")],
            CancellationToken.None);
    }

    // This run's control events in the control partition, in its commit order.
    static async Task<IReadOnlyList<(string Stream, long Version, Guid Id, string Type, string Data, DateTimeOffset At)>> ControlEventsAsync(
        Npgsql.NpgsqlDataSource shard, string run)
    {
        var read = await new EventLog(shard).ReadTailAsync(LogPositions.At(LogPartitioner.ControlPartition, TailPosition.Start), 100_000, CancellationToken.None);
        return [.. read.Where(e => e.StreamId.Contains(run, StringComparison.Ordinal) && PartitionedDatabase.Partitioner.IsControl(e.StreamId))
            .Select(e => (e.StreamId, e.Version, e.EventId, e.Type, e.Data, e.EventTime))];
    }
}
