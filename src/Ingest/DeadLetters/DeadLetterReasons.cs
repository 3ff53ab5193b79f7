using System.Globalization;

namespace Streaming.Ingest.DeadLetters;

/// <summary>
/// The reasons Ingest gives for the signals it dead-letters after looking at the store (the reader gives the others).
/// Their wording is part of the contract (<c>contracts/schemas/job-signals-dlq.md</c>): tools match on it.
/// </summary>
public static class DeadLetterReasons
{
    public static string Stale(string jobId, long seq) =>
        string.Create(CultureInfo.InvariantCulture, $"seq {seq} arrived after a higher seq of job {jobId} was stored (out of order)");

    public static string Conflicting(string jobId, long seq) =>
        string.Create(CultureInfo.InvariantCulture, $"seq {seq} of job {jobId} was stored before with different content (conflicting duplicate)");

    public static string OtherShard(string jobId, int logPartition, int jobShard, int kafkaPartition, int partitionShard) =>
        string.Create(CultureInfo.InvariantCulture,
            $"job {jobId} is in log partition {logPartition} on shard {jobShard}, but came on partition {kafkaPartition}, whose shard is {partitionShard} (key messages by job id with the murmur2 partitioner)");
}
