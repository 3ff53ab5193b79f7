namespace Streaming.EventStore;

/// <summary>
/// Which PostgreSQL cluster (shard) holds each log partition: partition p lives on shard <c>p mod S</c>, with every
/// event, stream head, Kafka offset, checkpoint and projection row of that partition, so no transaction spans two shards.
/// Partition 0, the control partition, is on shard 0; every shard has the whole schema and the same partition count.
/// One shard (the default) is the single store of before.
/// </summary>
public sealed class ShardMap
{
    public ShardMap(int shards, int partitions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        if (shards > partitions)
        {
            throw new ArgumentOutOfRangeException(nameof(shards), shards,
                $"{shards} shards for {partitions} log partitions: each shard holds at least one partition, so there can be at most {partitions}");
        }
        Shards = shards;
        Partitions = partitions;
    }

    /// <summary>One shard holding every partition.</summary>
    public static ShardMap Single(int partitions) => new(1, partitions);

    public int Shards { get; }

    public int Partitions { get; }

    public int ShardOf(int partition)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(partition, Partitions);
        return partition % Shards;
    }

    /// <summary>The partitions on <paramref name="shard"/>, in order.</summary>
    public IReadOnlyList<int> PartitionsOf(int shard)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(shard, Shards);
        return [.. Enumerable.Range(0, Partitions).Where(p => p % Shards == shard)];
    }
}
