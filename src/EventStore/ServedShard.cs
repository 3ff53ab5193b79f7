namespace Streaming.EventStore;

/// <summary>
/// The shard a Projector's or a Promoter's process serves (<c>Store:Shard</c> of <c>Store:Shards</c>): its store is that
/// shard's, and its folds follow that shard's partitions (<see cref="ShardMap"/>) and the control partition, which every
/// shard holds: shard 0 as the control streams' home, the others as a copy relayed from it. Shard 0 of 1 is the single
/// store of before.
/// </summary>
public sealed class ServedShard
{
    public ServedShard(int shard, int shards)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(shard, shards);
        Shard = shard;
        Shards = shards;
    }

    /// <summary>The one shard of an unsharded store.</summary>
    public static ServedShard Single { get; } = new(0, 1);

    public int Shard { get; }

    public int Shards { get; }

    public bool IsSharded => Shards > 1;

    /// <summary>Whether the control streams are written here (shard 0); every other shard holds a relayed copy of them.</summary>
    public bool IsControlHome => Shard == 0;

    /// <summary>The role's consumer group for this shard: <paramref name="group"/> itself in an unsharded store, else with a <c>-shard{s}</c> suffix.</summary>
    public string GroupOf(string group) => IsSharded ? $"{group}-shard{Shard}" : group;

    /// <summary>
    /// Of <paramref name="partitions"/> (of a log of <paramref name="logPartitions"/>), those this shard's folds follow: the
    /// shard's own and the control partition. Throws when the log has fewer partitions than the store has shards.
    /// </summary>
    public IReadOnlyList<int> Followed(IEnumerable<int> partitions, int logPartitions)
    {
        var map = new ShardMap(Shards, logPartitions);
        return [.. partitions.Where(p => p == LogPartitioner.ControlPartition || map.ShardOf(p) == Shard).Distinct().Order()];
    }

    public override string ToString() => $"shard {Shard} of {Shards}";
}
