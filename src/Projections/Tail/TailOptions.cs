namespace Streaming.Projections.Tail;

/// <summary>How the process's <see cref="LogTail"/> reads the log and hands it to its folds (configuration section <c>Tail</c>).</summary>
public sealed class TailOptions
{
    public const string Section = "Tail";

    /// <summary>Most events read at a time.</summary>
    public int ReadBatchSize { get; set; } = LogSource.DefaultBatchSize;

    /// <summary>How long to wait for new events when no notification comes; the fallback when LISTEN is down.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether to wake on the store's notifications instead of only polling.</summary>
    public bool Listen { get; set; } = true;

    /// <summary>Pause before listening again after the LISTEN connection failed.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Events read but not yet folded that one fold may have waiting: what bounds the reader's memory. A fold whose
    /// queue is full holds the reader back for at most <see cref="StallTimeout"/> (at once when it is waiting out an
    /// outage); then it is left to catch up on its own, and rejoins when it has.
    /// </summary>
    public int FoldQueueEvents { get; set; } = 50_000;

    /// <summary>How long a fold with a full queue may hold the reader back before it is left to catch up on its own.</summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a fold waits with nothing queued before it looks at its timers (writes that are due): the log going
    /// quiet is no reason to write.
    /// </summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Longest pause between retries while the database or broker is away.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    public bool IsValid =>
        ReadBatchSize > 0 && PollInterval > TimeSpan.Zero && TickInterval > TimeSpan.Zero && ReconnectDelay > TimeSpan.Zero && FoldQueueEvents > 0
        && StallTimeout >= TimeSpan.Zero && MaxRetryDelay > TimeSpan.Zero;
}
