using Streaming.EventStore;
using Streaming.Hosting.Kafka;
using Streaming.Projections.Ownership;

namespace Streaming.Tests.Ownership;

/// <summary>Which topic a role's group shares out, and which log partitions each of its partitions stands for.</summary>
public sealed class GroupTopicTests
{
    static readonly KafkaOptions Kafka = new();

    [Fact]
    public void With_one_shard_the_group_shares_out_job_signals_its_partition_k_being_log_partition_k()
    {
        var topic = GroupTopic.Of(ServedShard.Single, Kafka, 4);

        Assert.Equal("job-signals", topic.Name);
        Assert.Equal(4, topic.Partitions);
        Assert.Equal([1, 3], topic.LogPartitionsOf([3, 1]));
    }

    [Fact]
    public void A_shards_group_shares_out_the_shards_topic_its_partition_i_being_the_shards_ith_log_partition()
    {
        // Shard 1 of 3 over 12 log partitions holds 1, 4, 7 and 10; shard 0 holds 0, 3, 6 and 9
        var first = GroupTopic.Of(new ServedShard(1, 3), Kafka, 12);
        var home = GroupTopic.Of(new ServedShard(0, 3), Kafka, 12);

        Assert.Equal("job-signals.shard-1", first.Name);
        Assert.Equal(4, first.Partitions);
        Assert.Equal([7, 10], first.LogPartitionsOf([2, 3]));
        Assert.Equal("job-signals.shard-0", home.Name);
        Assert.Equal([3, 9], home.LogPartitionsOf([1, 3]));
    }

    [Fact]
    public void The_member_given_a_shards_first_partition_owns_the_shards_control_partition_too()
    {
        Assert.Equal([0, 1], GroupTopic.Of(new ServedShard(1, 3), Kafka, 12).LogPartitionsOf([0]));
        Assert.Equal([0], GroupTopic.Of(new ServedShard(0, 3), Kafka, 12).LogPartitionsOf([0]));
        Assert.Equal("0=0+2, 1=5", GroupTopic.Of(new ServedShard(2, 3), Kafka, 6).ToString());
    }

    [Fact]
    public void The_topic_name_is_configured_with_the_shards_number_in_it()
    {
        var kafka = new KafkaOptions { ShardGroupTopic = "members-{shard}-of-signals" };

        Assert.Equal("members-2-of-signals", GroupTopic.Of(new ServedShard(2, 3), kafka, 6).Name);
        Assert.Equal([("members-0-of-signals", 2), ("members-1-of-signals", 2), ("members-2-of-signals", 2)], kafka.ShardGroupTopics(new ShardMap(3, 6)));
    }
}
