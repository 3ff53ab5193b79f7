namespace Streaming.Lifecycle;

/// <summary>A signal kept in a job's window: the criteria need only its version, when it was emitted and its metrics.</summary>
public sealed record WindowSample(long Version, DateTimeOffset EmittedAt, IReadOnlyDictionary<string, double> Metrics);
