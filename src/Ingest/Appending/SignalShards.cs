using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;
using Streaming.Ingest.DeadLetters;

namespace Streaming.Ingest.Appending;

/// <summary>
/// Ingest's write path over the store's shards (<see cref="StoreShards"/>): each shard's <see cref="SignalLog"/>, and
/// the shard a Kafka partition's messages and offsets are stored on. Kafka partition k is log partition k, so with
/// several shards its messages go to shard <c>ShardOf(k)</c>, and a message whose job belongs to a partition of another
/// shard is not stored there (<see cref="OtherShard"/>). With one shard everything goes to it, as before.
/// </summary>
public sealed class SignalShards
{
    readonly StoreShards _shards;
    readonly SignalLog[] _logs;

    /// <param name="shard0">The process's <see cref="SignalLog"/>, over shard 0's data source.</param>
    public SignalShards(StoreShards shards, SignalLog shard0, ILogger<SignalLog> logger)
    {
        ArgumentNullException.ThrowIfNull(shards);
        _shards = shards;
        _logs = [shard0, .. Enumerable.Range(1, shards.Count - 1).Select(s => new SignalLog(shards.DataSource(s), logger))];
    }

    public int Count => _logs.Length;

    /// <summary>More than one shard: a shard that is down stalls only its partitions.</summary>
    public bool Sharded => _logs.Length > 1;

    /// <summary>How many log partitions the shards split; null with one shard (any count).</summary>
    public int? Partitions => _shards.Map?.Partitions;

    public SignalLog Log(int shard) => _logs[shard];

    public NpgsqlDataSource DataSource(int shard) => _shards.DataSource(shard);

    /// <summary>The shard that stores the messages and the offset of Kafka partition <paramref name="kafkaPartition"/>.</summary>
    public int ShardOf(int kafkaPartition) => _shards.ShardOf(kafkaPartition);

    /// <summary>
    /// Why the signal of <paramref name="jobId"/> read from <paramref name="kafkaPartition"/> cannot be stored with that
    /// partition: its job's stream lives on another shard (its producer keyed it with another partitioner); null when it can.
    /// </summary>
    public string? OtherShard(string jobId, int kafkaPartition)
    {
        if (_shards.PartitionOfJob(jobId) is not { } partition)
        {
            return null;
        }
        var (jobShard, partitionShard) = (_shards.ShardOf(partition), _shards.ShardOf(kafkaPartition));
        return jobShard == partitionShard ? null : DeadLetterReasons.OtherShard(jobId, partition, jobShard, kafkaPartition, partitionShard);
    }

    /// <summary>The next offset to read of each partition stored on <paramref name="shard"/>.</summary>
    public Task<IReadOnlyDictionary<int, long>> LoadKafkaOffsetsAsync(int shard, string consumerGroup, string topic, CancellationToken cancellationToken) =>
        _logs[shard].LoadKafkaOffsetsAsync(consumerGroup, topic, cancellationToken);
}
