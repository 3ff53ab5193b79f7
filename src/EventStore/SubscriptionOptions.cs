namespace Streaming.EventStore;

/// <summary>How a <see cref="CatchUpSubscription"/> reads and waits.</summary>
public sealed record SubscriptionOptions
{
    /// <summary>Most events handed to the handler in one transaction.</summary>
    public int BatchSize { get; init; } = 1000;

    /// <summary>How long to wait for new events when no notification comes; the fallback when LISTEN is down.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether to wake on the store's notifications instead of only polling.</summary>
    public bool Listen { get; init; } = true;

    /// <summary>Pause before listening again after the LISTEN connection failed.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest pause between retries of a batch that failed with a transient error.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);
}
