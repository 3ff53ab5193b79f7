using Streaming.Lifecycle;

namespace Streaming.Api.Fleet;

/// <summary>The flags the fleet page lists jobs by (<c>projections.job_states.flags</c>), in the order it shows them.</summary>
public static class FleetFlags
{
    /// <summary>Set by the Projector for a job one of whose events could not be applied.</summary>
    public const string Poisoned = "poisoned";

    public const string Regressed = "regressed";

    public static IReadOnlyList<string> Attention { get; } =
    [
        LifecycleFlags.Stuck, LifecycleFlags.Drifted, Regressed, LifecycleFlags.Quarantined, LifecycleFlags.Held, LifecycleFlags.Pinned,
        Poisoned, LifecycleFlags.KnownIssue, LifecycleFlags.WaitingForSlot, LifecycleFlags.AwaitingApproval, LifecycleFlags.Silent,
    ];

    /// <summary>Every flag a job list can be filtered by.</summary>
    public static IReadOnlySet<string> Known { get; } = new HashSet<string>(
        [.. Attention, LifecycleFlags.AwaitingAck, LifecycleFlags.PhaseMismatch, LifecycleFlags.UnknownPhaseReported, LifecycleFlags.NoPolicy, LifecycleFlags.Approved],
        StringComparer.Ordinal);
}
