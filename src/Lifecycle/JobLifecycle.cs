using System.Collections.Immutable;

namespace Streaming.Lifecycle;

/// <summary>
/// Everything the policy needs to know about one job, folded from its signals and decisions. <see cref="PhaseSince"/>
/// is the job's acknowledgement of its assigned phase (the first signal reporting it); null while awaiting it.
/// <see cref="Window"/> holds the signals that reported the assigned phase since then, sorted by event time.
/// <see cref="PromotionStreak"/> counts consecutive passing evaluations of the gate out of the phase, and
/// <see cref="DemotionStreak"/> consecutive failing evaluations of the gate that admitted the job (since version
/// <see cref="DemotionStreakFrom"/>). <see cref="RecentChanges"/> are the event times of its latest phase changes, for
/// quarantine; a quarantined job is never moved by the policy. <see cref="Policy"/> names the policy that governed the
/// job's latest signal; <see cref="ActiveOverride"/> is an operator's hold or pin in force, which the policy never undoes.
/// </summary>
public sealed record JobLifecycle(
    string JobId,
    string? AssignedPhase,
    DateTimeOffset? AssignedAt,
    DateTimeOffset? PhaseSince,
    WindowSamples Window,
    int PromotionStreak,
    Verdict LastPromotionVerdict,
    int DemotionStreak,
    long DemotionStreakFrom,
    long LastVersion,
    long LastSeq,
    DateTimeOffset? LastSignalAt,
    string? LastReportedPhase,
    IReadOnlyDictionary<string, double> LatestMetrics,
    int PhaseChanges,
    bool ReportedUnknownPhase,
    ImmutableArray<DateTimeOffset> RecentChanges,
    DateTimeOffset? QuarantinedAt,
    string? Policy = null,
    JobOverride? ActiveOverride = null)
{
    public bool AwaitingAcknowledgement => AssignedPhase is not null && PhaseSince is null;

    public bool Quarantined => QuarantinedAt is not null;

    /// <summary>The job acknowledged its phase earlier but now reports another one.</summary>
    public bool ReportsOtherPhase =>
        PhaseSince is not null && LastReportedPhase is not null && !string.Equals(LastReportedPhase, AssignedPhase, StringComparison.Ordinal);

    /// <summary>The <see cref="LifecycleFlags"/> that hold now.</summary>
    public ImmutableSortedSet<string> Flags()
    {
        var flags = ImmutableSortedSet.CreateBuilder<string>(StringComparer.Ordinal);
        if (AwaitingAcknowledgement)
        {
            flags.Add(LifecycleFlags.AwaitingAck);
        }
        if (ReportsOtherPhase)
        {
            flags.Add(LifecycleFlags.PhaseMismatch);
        }
        if (ReportedUnknownPhase)
        {
            flags.Add(LifecycleFlags.UnknownPhaseReported);
        }
        if (Quarantined)
        {
            flags.Add(LifecycleFlags.Quarantined);
        }
        if (ActiveOverride?.Kind == OverrideKind.Hold)
        {
            flags.Add(LifecycleFlags.Held);
        }
        if (ActiveOverride?.Kind == OverrideKind.Pin)
        {
            flags.Add(LifecycleFlags.Pinned);
        }
        if (AssignedPhase is null && LastSignalAt is not null)
        {
            flags.Add(LifecycleFlags.NoPolicy);
        }
        return flags.ToImmutable();
    }
}
