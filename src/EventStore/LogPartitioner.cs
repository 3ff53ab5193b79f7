using Streaming.Contracts.Signals;

namespace Streaming.EventStore;

/// <summary>
/// Which log partition a stream belongs to: a job's stream goes to <c>murmur2(utf8(jobId)) mod P</c>, bit for bit the Java
/// client's default partitioner (<see cref="Murmur2Partitioner"/>; librdkafka's <c>murmur2</c>), so a job's log partition is the <c>job-signals</c>
/// partition its producers key it to when P equals the topic's partition count; every other stream (policies, known
/// issues, breakers, pauses: ids starting with one of <see cref="ControlPrefixes"/>) goes to <see cref="ControlPartition"/>.
/// The store applies the same rule in SQL (<c>es.partition_of</c>) from its <c>es.log_partitioning</c> row.
/// </summary>
public sealed class LogPartitioner
{
    /// <summary>
    /// Where control streams go: partition 0, so one partition (P = 1) is exactly the single log of before, and the owner
    /// of partition 0 is the one owner of the control events, chosen by the same group protocol as every other partition.
    /// </summary>
    public const int ControlPartition = 0;

    public LogPartitioner(int partitions, IReadOnlyList<string> controlPrefixes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        ArgumentNullException.ThrowIfNull(controlPrefixes);
        Partitions = partitions;
        ControlPrefixes = [.. controlPrefixes];
    }

    /// <summary>One partition: today's single log.</summary>
    public static LogPartitioner Single { get; } = new(1, []);

    public int Partitions { get; }

    public IReadOnlyList<string> ControlPrefixes { get; }

    /// <summary>The partition of the stream <paramref name="streamId"/>.</summary>
    public int PartitionOf(string streamId)
    {
        ArgumentNullException.ThrowIfNull(streamId);
        if (Partitions == 1 || IsControl(streamId))
        {
            return ControlPartition;
        }
        return Murmur2Partitioner.Partition(streamId, Partitions);
    }

    /// <summary>Whether <paramref name="streamId"/> is a control stream (one of <see cref="ControlPrefixes"/>), which lives in <see cref="ControlPartition"/>.</summary>
    public bool IsControl(string streamId)
    {
        ArgumentNullException.ThrowIfNull(streamId);
        foreach (var prefix in ControlPrefixes)
        {
            if (streamId.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }
}
