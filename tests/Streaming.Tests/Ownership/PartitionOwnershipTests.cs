using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Contracts;
using Streaming.Embedded.Broker;
using Streaming.EventStore;
using Streaming.Hosting.Kafka;
using Streaming.Projections.Ownership;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Ownership;

/// <summary>
/// Members of one role's group on the embedded Kafka-protocol broker (librdkafka's mock cluster) with the cooperative-sticky
/// assignor: how they share <c>job-signals</c>' partitions, how a shard's group shares its shard's group topic, and what
/// one of them refuses.
/// </summary>
public sealed class PartitionOwnershipTests : IDisposable
{
    const int Partitions = 4;
    const int ShardedPartitions = 12;
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    readonly EmbeddedKafkaCluster _kafka = EmbeddedKafkaCluster.Start();
    readonly List<PartitionOwnership> _members = [];

    public PartitionOwnershipTests() => _kafka.CreateTopic(Topics.Signals, Partitions);

    public void Dispose()
    {
        foreach (var member in _members)
        {
            member.Dispose();
        }
        _kafka.Dispose();
    }

    [Fact]
    public async Task Two_members_split_the_partitions_between_them_and_the_one_left_takes_them_all_when_the_other_leaves()
    {
        // Given two members of one group (whose revokes are not held: nothing here releases partitions)
        var first = Member("streaming-projector", "first", TimeSpan.FromSeconds(1));
        var second = Member("streaming-projector", "second", TimeSpan.FromSeconds(1));
        await first.StartAsync(Partitions, CancellationToken.None);
        await second.StartAsync(Partitions, CancellationToken.None);

        // Then each owns a share, and together they own every partition once
        await Eventually.True(() => Task.FromResult(
                first.Current.Partitions.Count > 0 && second.Current.Partitions.Count > 0
                && first.Current.Partitions.Concat(second.Current.Partitions).Order().SequenceEqual(Enumerable.Range(0, Partitions))),
            Timeout, "the two members to split the partitions");
        var kept = first.Current.Partitions;

        // When the second leaves the group
        var changed = first.Current.Changed;
        second.Close();

        // Then the first owns every partition, having kept its own throughout (sticky: only the second's moved)
        await Eventually.True(() => Task.FromResult(first.Current.Partitions.SequenceEqual(Enumerable.Range(0, Partitions))), Timeout,
            "the first member to own every partition");
        Assert.True(changed.IsCompleted);
        Assert.Superset(new SortedSet<int>(kept), new SortedSet<int>(first.Current.Partitions));
    }

    [Fact]
    public async Task A_revoke_waits_until_the_process_has_released_the_partitions_leaving()
    {
        // Given a member that owns every partition
        var first = Member("streaming-promoter", "first");
        await first.StartAsync(Partitions, CancellationToken.None);
        await Eventually.True(() => Task.FromResult(first.Current.Partitions.Count == Partitions), Timeout, "the member to own every partition");

        // When a second member joins, so some partitions are revoked from the first, which does not release them yet
        var owned = first.Current;
        var second = Member("streaming-promoter", "second");
        await second.StartAsync(Partitions, CancellationToken.None);
        await owned.Changed.WaitAsync(Timeout);

        // Then the second is not handed them while the first holds them (at most for the drain's bound)
        Assert.Empty(second.Current.Partitions);

        // And once the first releases them, the second gets them
        first.Release();
        await Eventually.True(() => Task.FromResult(
                second.Current.Partitions.Count > 0
                && first.Current.Partitions.Concat(second.Current.Partitions).Order().SequenceEqual(Enumerable.Range(0, Partitions))),
            Timeout, "the second member to get the partitions released");
    }

    [Fact]
    public async Task A_member_refuses_to_start_when_job_signals_has_another_partition_count_than_the_log()
    {
        var member = Member("streaming-projector", null);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => member.StartAsync(Partitions + 8, CancellationToken.None));

        Assert.Contains($"has {Partitions} partitions and the store's log {Partitions + 8}", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_members_of_a_shards_group_each_own_half_of_the_shards_partitions_and_one_of_them_the_control_partition()
    {
        // Given a store of 12 log partitions over 2 shards, shard 1 holding 1, 3, 5, 7, 9 and 11, and its group topic made
        // as its callers make it (one partition per partition of the shard)
        var map = new ShardMap(2, ShardedPartitions);
        foreach (var (topic, partitions) in new KafkaOptions().ShardGroupTopics(map))
        {
            _kafka.CreateTopic(topic, partitions);
        }
        var shard = map.PartitionsOf(1);

        // When two members of shard 1's group start
        var first = Member("streaming-projector-shard1", "first", TimeSpan.FromSeconds(1), new ServedShard(1, 2));
        var second = Member("streaming-projector-shard1", "second", TimeSpan.FromSeconds(1), new ServedShard(1, 2));
        await first.StartAsync(ShardedPartitions, CancellationToken.None);
        await second.StartAsync(ShardedPartitions, CancellationToken.None);

        // Then each owns exactly half of the shard's partitions, together every one of them once, and the control partition
        // goes with the shard's first partition (1), to one member alone
        await Eventually.True(() => Task.FromResult(
                first.Current.Partitions.Count(p => shard.Contains(p)) == shard.Count / 2
                && second.Current.Partitions.Count(p => shard.Contains(p)) == shard.Count / 2
                && first.Current.Partitions.Concat(second.Current.Partitions).Order().SequenceEqual([LogPartitioner.ControlPartition, .. shard])),
            Timeout, "the two members to split shard 1's partitions, 3 each");
        foreach (var owned in new[] { first.Current.Partitions, second.Current.Partitions })
        {
            Assert.Equal(owned.Contains(shard[0]), owned.Contains(LogPartitioner.ControlPartition));
        }

        // And when the second leaves, the first owns all of them: no other shard's partition, ever
        second.Close();
        await Eventually.True(() => Task.FromResult(first.Current.Partitions.SequenceEqual([LogPartitioner.ControlPartition, .. shard])), Timeout,
            "the first member to own every partition of shard 1");
    }

    [Fact]
    public async Task A_member_of_a_shards_group_refuses_a_group_topic_with_another_partition_count_than_the_shards()
    {
        // Given shard 1's group topic made with a partition for each of the log's 12 partitions, not each of the shard's 6
        _kafka.CreateTopic(new KafkaOptions().ShardGroupTopicOf(1), ShardedPartitions);
        var member = Member("streaming-projector-shard1", null, served: new ServedShard(1, 2));

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => member.StartAsync(ShardedPartitions, CancellationToken.None));

        Assert.Contains($"'job-signals.shard-1' has {ShardedPartitions} partitions and shard 1 of 2 holds 6 of the log's {ShardedPartitions}", refused.Message, StringComparison.Ordinal);
    }

    // By default a long drain, so a test sees the revoke wait for the release rather than for the time.
    PartitionOwnership Member(string group, string? instance, TimeSpan? drain = null, ServedShard? served = null)
    {
        var kafka = new KafkaOptions { BootstrapServers = _kafka.BootstrapServers, ConsumerSessionTimeout = TimeSpan.FromSeconds(6) };
        var member = new PartitionOwnership(
            new OwnershipOptions { Enabled = true, Group = group, InstanceId = instance, DrainTimeout = drain ?? TimeSpan.FromSeconds(30) },
            kafka, "test", NullLogger<PartitionOwnership>.Instance)
        {
            Served = served ?? ServedShard.Single,
        };
        _members.Add(member);
        return member;
    }
}
