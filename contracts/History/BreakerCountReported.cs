namespace Streaming.Contracts.History;

/// <summary>
/// A Promoter reports to the owner of the control partition a fact a phase's circuit breaker counts, with several
/// Promoters (Owner mode; event type <c>breaker-count-reported/v1</c>, in the stream <c>breaker-count:{policy}:{phase}</c>):
/// a job <see cref="Entered"/> or <see cref="Left"/> the phase, was <see cref="Demoted"/> out of it, or is
/// <see cref="Waiting"/> to be promoted into it while its breaker is open (the owner closes the breaker then if the
/// demotions have aged). Its id derives from the job's event that caused it, so a report written again is refused as a
/// copy. <see cref="At"/> is that event's time; <see cref="JobVersion"/> its version in the job's stream.
/// </summary>
public sealed record BreakerCountReported(Guid EventId, string JobId, string Policy, string Phase, string Kind, long JobVersion, DateTimeOffset At)
{
    public const string EventType = "breaker-count-reported/v1";

    public const string Entered = "entered";
    public const string Left = "left";
    public const string Demoted = "demoted";
    public const string Waiting = "waiting";

    public const string StreamPrefix = "breaker-count:";

    public static string StreamFor(string policy, string phase) => $"{StreamPrefix}{policy}:{phase}";
}
