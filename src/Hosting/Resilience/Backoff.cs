namespace Streaming.Hosting.Resilience;

/// <summary>Capped exponential backoff with jitter: 100 ms, 200 ms, 400 ms … up to <c>max</c>, each drawn from its upper half.</summary>
public static class Backoff
{
    public static readonly TimeSpan DefaultMax = TimeSpan.FromSeconds(10);

    public static TimeSpan Delay(int attempt, TimeSpan? max = null)
    {
        var cap = (max ?? DefaultMax).TotalMilliseconds;
        var capped = Math.Min(cap, 100 * Math.Pow(2, Math.Clamp(attempt - 1, 0, 20)));
        return TimeSpan.FromMilliseconds(capped * (0.5 + Random.Shared.NextDouble() / 2));
    }
}
