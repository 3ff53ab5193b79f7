namespace Streaming.Lifecycle;

/// <summary>The names of the conditions <see cref="JobLifecycle.Flags"/> reports.</summary>
public static class LifecycleFlags
{
    /// <summary>The job was assigned a phase and has not reported it yet.</summary>
    public const string AwaitingAck = "awaiting-ack";

    /// <summary>The job acknowledged its assigned phase but its latest signal reports another one.</summary>
    public const string PhaseMismatch = "phase-mismatch";

    /// <summary>The job's latest signal reports a phase the policy does not have.</summary>
    public const string UnknownPhaseReported = "unknown-phase-reported";
}
