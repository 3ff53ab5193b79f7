namespace Streaming.Lifecycle;

/// <summary>
/// A signal kept in a job's window: the criteria need only its version, when it was emitted and its metrics. A struct, held
/// inline in the window's array: a fleet keeps millions of these.
/// </summary>
public readonly record struct WindowSample(long Version, DateTimeOffset EmittedAt, IReadOnlyDictionary<string, double> Metrics);
