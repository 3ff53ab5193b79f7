namespace Streaming.Tests.Infrastructure;

/// <summary>A clock the test sets: event time for code that reads the time.</summary>
public sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
