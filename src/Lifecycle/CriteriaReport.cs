namespace Streaming.Lifecycle;

/// <summary>
/// Where a job stands against the gate out of its phase (<see cref="Phase"/> → <see cref="NextPhase"/>, null when the
/// phase is terminal): for dashboards and "why not yet?" questions. <see cref="Blocking"/> is the first criterion that
/// does not pass; <see cref="Stuck"/> and <see cref="Drifted"/> follow the policy's rules for them.
/// </summary>
public sealed record CriteriaReport(
    string? Phase,
    string? NextPhase,
    bool AwaitingAcknowledgement,
    TimeSpan TimeInPhase,
    TimeSpan Soak,
    bool SoakMet,
    TimeSpan Window,
    int Samples,
    IReadOnlyList<CriterionResult> Criteria,
    Verdict Verdict,
    int PromotionStreak,
    int PromoteAfter,
    int DemotionStreak,
    bool Quarantined,
    CriterionResult? Blocking = null,
    bool Stuck = false,
    bool Drifted = false)
{
    public bool AllPassed => Verdict == Verdict.Pass;
}
