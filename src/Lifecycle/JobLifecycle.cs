using System.Collections.Immutable;

namespace Streaming.Lifecycle;

/// <summary>
/// Everything the policy needs to know about one job, folded from its signals and decisions. <see cref="PhaseSince"/>
/// is the job's acknowledgement of its assigned phase (the first signal reporting it); null while awaiting it.
/// </summary>
public sealed record JobLifecycle(
    string JobId,
    string? AssignedPhase,
    DateTimeOffset? AssignedAt,
    DateTimeOffset? PhaseSince,
    ImmutableArray<WindowSample> Window,
    int ConsecutiveBreaches,
    long FirstBreachVersion,
    long LastVersion,
    long LastSeq,
    DateTimeOffset? LastSignalAt,
    string? LastReportedPhase,
    IReadOnlyDictionary<string, double> LatestMetrics,
    int PhaseChanges,
    bool ReportedUnknownPhase)
{
    public bool AwaitingAcknowledgement => AssignedPhase is not null && PhaseSince is null;

    /// <summary>The job acknowledged its phase earlier but now reports another one.</summary>
    public bool ReportsOtherPhase => PhaseSince is not null && LastReportedPhase is not null && LastReportedPhase != AssignedPhase;

    public IReadOnlyList<string> Flags()
    {
        var flags = new List<string>(3);
        if (AwaitingAcknowledgement)
        {
            flags.Add("awaiting-ack");
        }
        if (ReportsOtherPhase)
        {
            flags.Add("phase-mismatch");
        }
        if (ReportedUnknownPhase)
        {
            flags.Add("unknown-phase-reported");
        }
        return flags;
    }
}
