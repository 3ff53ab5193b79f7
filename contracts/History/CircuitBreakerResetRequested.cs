namespace Streaming.Contracts.History;

/// <summary>An operator asks to resume promotions into a phase whose breaker is open (event type <c>circuit-breaker-reset-requested/v1</c>).</summary>
public sealed record CircuitBreakerResetRequested(string Policy, string Phase, string Actor, string Reason, DateTimeOffset At)
{
    public const string EventType = "circuit-breaker-reset-requested/v1";
}
