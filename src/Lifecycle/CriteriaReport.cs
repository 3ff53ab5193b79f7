namespace Streaming.Lifecycle;

/// <summary>Where a job stands against the gate out of its phase: for dashboards and "why not yet?" questions.</summary>
public sealed record CriteriaReport(
    string? Phase,
    string? NextPhase,
    bool AwaitingAcknowledgement,
    TimeSpan TimeInPhase,
    TimeSpan MinTimeInPhase,
    bool SoakMet,
    int Samples,
    int MinSamples,
    IReadOnlyList<CriterionResult> Criteria,
    bool AllPassed,
    int ConsecutiveBreaches);
