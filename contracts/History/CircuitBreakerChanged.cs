namespace Streaming.Contracts.History;

/// <summary>
/// A phase's circuit breaker opened (promotions into the phase pause) or closed (they resume), in the stream
/// <c>breaker:{policy}:{phase}</c> (event type <c>circuit-breaker-changed/v1</c>), with the counts that decided it.
/// </summary>
public sealed record CircuitBreakerChanged(
    Guid EventId,
    string Policy,
    string Phase,
    string State,
    int Demotions,
    int Jobs,
    double MaxDemotionShare,
    TimeSpan Window,
    DateTimeOffset At,
    string Reason)
{
    public const string EventType = "circuit-breaker-changed/v1";

    public const string Open = "open";
    public const string Closed = "closed";

    public const string StreamPrefix = "breaker:";

    public static string StreamFor(string policy, string phase) => $"{StreamPrefix}{policy}:{phase}";
}
