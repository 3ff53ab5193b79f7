namespace Streaming.Lifecycle;

/// <summary>
/// What an override does: the job's state with it in force, the phase change it makes (not yet applied: the caller
/// records it, then applies it), and the earlier override it ends, if any.
/// </summary>
public sealed record OverrideOutcome(JobLifecycle State, PhaseDecision? Change, JobOverride? Ended);
