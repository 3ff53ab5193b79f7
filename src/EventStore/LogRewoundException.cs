namespace Streaming.EventStore;

/// <summary>
/// A commit a reader has read is no longer in the log as it was read: PostgreSQL lost asynchronous commits in a crash
/// and reused their numbers. The reader's state is ahead of the log; the process must stop and resume from its durable
/// checkpoints (README, Architecture).
/// </summary>
public sealed class LogRewoundException(long commit, DateTimeOffset committedAt, int partition = 0)
    : Exception($"The log lost commit {commit} of partition {partition} (committed at {committedAt:O}) after this process read it; restart from the durable checkpoints")
{
    public int Partition => partition;

    public long Commit => commit;

    public DateTimeOffset CommittedAt => committedAt;
}
