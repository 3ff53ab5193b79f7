using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Contracts;
using Streaming.Embedded.Broker;
using Streaming.Hosting.Kafka;
using Streaming.Projections.Ownership;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Ownership;

/// <summary>
/// Members of one role's group on the embedded Kafka-protocol broker (librdkafka's mock cluster) with the cooperative-sticky
/// assignor: how they share <c>job-signals</c>' partitions, and what one of them refuses.
/// </summary>
public sealed class PartitionOwnershipTests : IDisposable
{
    const int Partitions = 4;
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
        first.Start(Partitions);
        second.Start(Partitions);

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
        first.Start(Partitions);
        await Eventually.True(() => Task.FromResult(first.Current.Partitions.Count == Partitions), Timeout, "the member to own every partition");

        // When a second member joins, so some partitions are revoked from the first, which does not release them yet
        var owned = first.Current;
        var second = Member("streaming-promoter", "second");
        second.Start(Partitions);
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
    public void A_member_refuses_to_start_when_job_signals_has_another_partition_count_than_the_log()
    {
        var member = Member("streaming-projector", null);

        var refused = Assert.Throws<InvalidOperationException>(() => member.Start(Partitions + 8));

        Assert.Contains($"has {Partitions} partitions and the store's log {Partitions + 8}", refused.Message, StringComparison.Ordinal);
    }

    // By default a long drain, so a test sees the revoke wait for the release rather than for the time.
    PartitionOwnership Member(string group, string? instance, TimeSpan? drain = null)
    {
        var kafka = new KafkaOptions { BootstrapServers = _kafka.BootstrapServers, ConsumerSessionTimeout = TimeSpan.FromSeconds(6) };
        var member = new PartitionOwnership(
            new OwnershipOptions { Enabled = true, Group = group, InstanceId = instance, DrainTimeout = drain ?? TimeSpan.FromSeconds(30) },
            kafka, "test", NullLogger<PartitionOwnership>.Instance);
        _members.Add(member);
        return member;
    }
}
