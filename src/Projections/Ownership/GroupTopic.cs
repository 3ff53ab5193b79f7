using Streaming.EventStore;
using Streaming.Hosting.Kafka;

namespace Streaming.Projections.Ownership;

/// <summary>
/// The topic whose partitions a role's group shares out, and the log partitions each of them stands for. In a store of
/// one shard it is <c>job-signals</c>, its partition k log partition k. In a sharded store it is the served shard's
/// own (<see cref="KafkaOptions.ShardGroupTopic"/>), its partition i the shard's i-th log partition, so the group splits
/// that shard's partitions alone; whoever holds its partition 0 owns the shard's copy of the control partition too (on
/// shard 0 the shard's first partition is the control partition).
/// </summary>
public sealed class GroupTopic
{
    readonly IReadOnlyList<int>[] _logPartitions;

    GroupTopic(string name, IReadOnlyList<int>[] logPartitions)
    {
        Name = name;
        _logPartitions = logPartitions;
    }

    public string Name { get; }

    /// <summary>How many partitions the topic must have.</summary>
    public int Partitions => _logPartitions.Length;

    /// <summary>
    /// The topic of <paramref name="served"/>'s groups over a log of <paramref name="logPartitions"/>. Throws when the log
    /// has fewer partitions than the store has shards.
    /// </summary>
    public static GroupTopic Of(ServedShard served, KafkaOptions kafka, int logPartitions)
    {
        if (!served.IsSharded)
        {
            return new GroupTopic(kafka.SignalsTopic, [.. Enumerable.Range(0, logPartitions).Select(p => (IReadOnlyList<int>)[p])]);
        }
        var own = new ShardMap(served.Shards, logPartitions).PartitionsOf(served.Shard);
        return new GroupTopic(
            kafka.ShardGroupTopicOf(served.Shard),
            [.. own.Select((p, i) => i == 0 && p != LogPartitioner.ControlPartition ? [LogPartitioner.ControlPartition, p] : (IReadOnlyList<int>)[p])]);
    }

    /// <summary>The log partitions that the topic's <paramref name="partitions"/> stand for, in order.</summary>
    public IReadOnlyList<int> LogPartitionsOf(IEnumerable<int> partitions) => [.. partitions.SelectMany(p => _logPartitions[p]).Distinct().Order()];

    /// <summary>Each partition of the topic and what it stands for, e.g. <c>0=0+1, 1=3</c>.</summary>
    public override string ToString() => string.Join(", ", _logPartitions.Select((log, i) => $"{i}={string.Join("+", log)}"));
}
