namespace Streaming.Projections;

/// <summary>How a <see cref="BufferedFold{TState}"/> reads and writes.</summary>
public sealed record FoldOptions
{
    public int ReadBatchSize { get; init; } = 5000;

    /// <summary>Changed states are written no sooner than this after the last write, unless the log went quiet.</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Changed states are written at most this long after the last write, however busy the log is.</summary>
    public TimeSpan MaxFlushInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Under load, a write waits until this many events were folded per changed state, so writing rows costs a bounded
    /// share of the work however many jobs there are (each row is rewritten whole).
    /// </summary>
    public int EventsPerChangedState { get; init; } = 4;

    /// <summary>Changed states that force a write however recent the last one was.</summary>
    public int MaxChanged { get; init; } = 200_000;

    /// <summary>When catching up, folded events that force a write: the most a crash makes a catch-up fold again.</summary>
    public int MaxCatchUpEvents { get; init; } = 200_000;

    /// <summary>How long to wait for a new event when the notification does not come.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);
}
