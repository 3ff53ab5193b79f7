namespace Streaming.Lifecycle;

/// <summary>
/// The way from one phase to the next: how long a job must have been in <see cref="From"/>, and the criteria that must
/// hold over the trailing <see cref="Window"/> of its signals. With <see cref="DemoteOnBreach"/>, a job admitted through
/// this gate is sent back when its signals break these criteria.
/// </summary>
public sealed record PhaseGate(
    string From,
    string To,
    TimeSpan MinTimeInPhase,
    TimeSpan Window,
    int MinSamples,
    IReadOnlyList<Criterion> Criteria,
    bool DemoteOnBreach);
