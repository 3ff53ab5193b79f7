namespace Streaming.Ingest;

/// <summary>How Ingest reads <c>job-signals</c> (configuration section <c>Ingest</c>).</summary>
public sealed class IngestOptions
{
    public const string Section = "Ingest";

    public string ConsumerGroup { get; set; } = "streaming-ingest";

    /// <summary>
    /// This process's static membership in the group (Kafka's <c>group.instance.id</c>, one per consumer: the id, a dash
    /// and the consumer's number), so a restart within the session timeout moves no partition. Unset: the host name and
    /// the index the supervisor gives each Ingest process (<c>STREAMING_INSTANCE</c>, see <c>Streaming.Hosting.Supervision.SupervisedInstance</c>); without either, the consumers are
    /// dynamic members. Two live processes must never share one.
    /// </summary>
    public string? InstanceId { get; set; }

    /// <summary>
    /// How long a consumer whose partitions are revoked waits for the batch in flight to commit before abandoning it
    /// (rolled back, read again by the partitions' next owner). Lost partitions abandon it at once.
    /// </summary>
    public TimeSpan RevokeDrain { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a partition another consumer stored past (fenced) stays paused before it is read again from the store,
    /// if the group still gives it to this consumer: time for the group to take it away if it is no longer this one's.
    /// </summary>
    public TimeSpan FencedPause { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Consumers in this process, each a group member writing its own partitions in its own transactions. More than the
    /// topic has partitions leaves the rest idle; more Ingest processes scale the same way.
    /// </summary>
    public int Consumers { get; set; } = 2;

    /// <summary>Most messages written to the store in one transaction.</summary>
    public int MaxBatchSize { get; set; } = 5000;

    /// <summary>
    /// How long a tiny batch (fewer than <see cref="SmallBatch"/> messages) waits to fill once its first message has
    /// arrived; a larger one closes as soon as the consumer has nothing more buffered.
    /// </summary>
    public TimeSpan MaxBatchWait { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Below this many messages a batch is tiny: it waits up to <see cref="MaxBatchWait"/> for more.</summary>
    public int SmallBatch { get; set; } = 50;

    /// <summary>
    /// Commit appends without waiting for their WAL to reach disk (<c>synchronous_commit = off</c> for Ingest's
    /// transaction only). A commit lost in a server crash loses its stored offsets with it, so the messages are read
    /// again and appended again (README, Ingest).
    /// </summary>
    public bool AsynchronousCommit { get; set; } = true;

    /// <summary>
    /// How far ahead of its message's Kafka timestamp a signal's <c>emittedAt</c> may be; later ones are dead-lettered
    /// (a producer's clock may run a little fast, but not days).
    /// </summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Forget the offsets stored for an earlier broker when starting: set by the embedded mode, whose broker lives only
    /// as long as the process, so its logs always start empty.
    /// </summary>
    public bool ForgetStoredOffsetsOnStart { get; set; }
}
