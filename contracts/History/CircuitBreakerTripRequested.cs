namespace Streaming.Contracts.History;

/// <summary>
/// An operator opens a phase's circuit breaker by hand (event type <c>circuit-breaker-trip-requested/v1</c>, in the
/// breaker's stream): promotions into the phase pause until someone resets it; it does not close by itself.
/// </summary>
public sealed record CircuitBreakerTripRequested(string Policy, string Phase, string Actor, string Reason, DateTimeOffset At)
{
    public const string EventType = "circuit-breaker-trip-requested/v1";
}
