namespace Streaming.Contracts;

/// <summary>The default topic names of the wire contract; every service lets configuration change them.</summary>
public static class Topics
{
    public const string Signals = "job-signals";
    public const string SignalsDeadLetter = "job-signals-dlq";
    public const string PhaseChanges = "job-phase-changes";

    /// <summary>
    /// In a sharded store, the topic whose partitions shard <c>{shard}</c>'s Projectors (and its Promoters) share out among
    /// themselves: one per log partition of the shard. Nothing is written to it.
    /// </summary>
    public const string ShardGroup = "job-signals.shard-{shard}";
}
