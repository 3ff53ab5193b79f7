namespace Streaming.Bench.Latency;

/// <summary>
/// How long one signal took, with the system otherwise idle, from the producer to its row in the system's job-state
/// table: as such, and right after a position of the log was burned by a rolled-back transaction (medians of three).
/// </summary>
public sealed record TailLatency(TimeSpan Idle, TimeSpan AfterBurnedPosition);
