namespace Streaming.Lifecycle;

/// <summary>
/// One side of a gate: its criteria over the trailing <see cref="Window"/> of a job's signals, and how many consecutive
/// evaluations (<see cref="After"/>) must agree before the job moves. Promotion needs them all to pass; demotion
/// happens when they keep failing.
/// </summary>
public sealed record GateRule(TimeSpan Window, int After, IReadOnlyList<Criterion> Criteria);
