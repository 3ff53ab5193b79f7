namespace Streaming.Lifecycle;

/// <summary>
/// A phase's circuit breaker opened (promotions into it pause) or closed (they resume), the <see cref="Sequence"/>-th
/// change of that breaker, with the counts that decided it.
/// </summary>
public sealed record BreakerChange(
    string Policy,
    string Phase,
    bool Opened,
    int Sequence,
    int Demotions,
    int Jobs,
    double MaxDemotionShare,
    TimeSpan Window,
    DateTimeOffset At,
    string Reason);
