namespace Streaming.Lifecycle;

/// <summary>
/// One recorded signal of a job, as the lifecycle sees it: stream version, seq, event time, reported phase, metrics.
/// The state keeps <see cref="Metrics"/> by reference, so it must not change after it is recorded.
/// </summary>
public sealed record SignalSample(long Version, long Seq, DateTimeOffset EmittedAt, string Phase, IReadOnlyDictionary<string, double> Metrics);
