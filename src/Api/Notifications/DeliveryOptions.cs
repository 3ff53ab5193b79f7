namespace Streaming.Api.Notifications;

/// <summary>How webhook deliveries are attempted and retried (capped exponential backoff with jitter).</summary>
public sealed class DeliveryOptions
{
    /// <summary>Attempts before a delivery is given up as failed; a 4xx answer other than 408 and 429 fails it at once.</summary>
    public int MaxAttempts { get; set; } = 12;

    /// <summary>The wait after the first failed attempt; each further one doubles it, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long one request may take.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often due deliveries are looked for when none was waiting.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Deliveries claimed at once.</summary>
    public int BatchSize { get; set; } = 20;

    public IEnumerable<string> Problems()
    {
        if (MaxAttempts < 1 || BatchSize < 1)
        {
            yield return "Notifications:Delivery: MaxAttempts and BatchSize must be at least 1";
        }
        if (FirstRetryDelay <= TimeSpan.Zero || MaxRetryDelay < FirstRetryDelay || Timeout <= TimeSpan.Zero || PollInterval <= TimeSpan.Zero)
        {
            yield return "Notifications:Delivery: FirstRetryDelay, Timeout and PollInterval must be positive, MaxRetryDelay at least FirstRetryDelay";
        }
    }

    /// <summary>The wait before attempt <paramref name="attempts"/> + 1: doubled each time, capped, drawn from its upper half.</summary>
    public TimeSpan RetryDelay(int attempts)
    {
        var doubled = FirstRetryDelay.TotalMilliseconds * Math.Pow(2, Math.Clamp(attempts - 1, 0, 30));
        var capped = Math.Min(MaxRetryDelay.TotalMilliseconds, doubled);
        return TimeSpan.FromMilliseconds(capped * (0.5 + Random.Shared.NextDouble() / 2));
    }
}
