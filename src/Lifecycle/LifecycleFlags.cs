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

    /// <summary>The job changed phase too often within the policy's quarantine period and is held for a person to look at.</summary>
    public const string Quarantined = "quarantined";

    /// <summary>The job has not reported its assigned phase within the policy's acknowledgement time.</summary>
    public const string Drifted = "drifted";

    /// <summary>The job's criteria have not passed after the policy's number of soaks in its phase.</summary>
    public const string Stuck = "stuck";

    /// <summary>An open known issue holds the job: it is not promoted until the issue is resolved.</summary>
    public const string KnownIssue = "known-issue";

    /// <summary>The policy would promote the job, but the next phase's wave has no slot for it yet or its breaker is open.</summary>
    public const string WaitingForSlot = "waiting-for-slot";

    /// <summary>The job passed the criteria of a gate that needs approval and waits for an operator to approve the move.</summary>
    public const string AwaitingApproval = "awaiting-approval";

    /// <summary>An operator approved the job's waiting move; it is made at the job's next signal if the criteria still hold.</summary>
    public const string Approved = "approved";

    /// <summary>An operator holds the job where it is.</summary>
    public const string Held = "held";

    /// <summary>An operator pinned the job to its phase.</summary>
    public const string Pinned = "pinned";

    /// <summary>No active policy selects the job, so nothing is decided for it.</summary>
    public const string NoPolicy = "no-policy";

    /// <summary>An event of the job's stream could not be applied: it was skipped and recorded in <c>es.poisoned_events</c>.</summary>
    public const string Poisoned = "poisoned";

    /// <summary>The job's last signal is older than the fleet's event-time watermark minus its policy's silence: not promoted until it signals.</summary>
    public const string Silent = "silent";
}
