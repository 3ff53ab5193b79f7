namespace Streaming.Projections;

/// <summary>How a <see cref="BufferedFold{TState}"/> reads and writes.</summary>
public sealed record FoldOptions
{
    public int ReadBatchSize { get; init; } = 5000;

    /// <summary>Changed states are written at most this long after they changed.</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Changed states that force a write however recent the last one was.</summary>
    public int MaxChanged { get; init; } = 20_000;

    /// <summary>How long to wait for a new event when the notification does not come.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);
}
