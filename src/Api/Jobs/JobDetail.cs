namespace Streaming.Api.Jobs;

/// <summary>
/// Why a job is where it is: its phases and since when, each criterion of the gate out of its phase (promote) and of
/// the gate that admitted it (demote) with value, threshold, samples and verdict, what blocks it, its soak and the
/// earliest it could move, what holds it besides its criteria (silence, approval, pause, window), flags, labels, the
/// override in force, its decisions with their provenance, overrides and recent signals.
/// </summary>
public sealed record JobDetail(
    string JobId,
    string Policy,
    IReadOnlyList<string> Phases,
    string AssignedPhase,
    DateTimeOffset? AssignedAt,
    string? ReportedPhase,
    DateTimeOffset? PhaseSince,
    DateTimeOffset? LastSignalAt,
    long? LastSeq,
    string? NextPhase,
    string? PreviousPhase,
    IReadOnlyList<CriterionView> Promote,
    IReadOnlyList<CriterionView> Demote,
    string? Blocking,
    string Verdict,
    int PromotionStreak,
    int PromoteAfter,
    int DemotionStreak,
    int? DemoteAfter,
    Soak Soak,
    DateTimeOffset? EarliestMove,
    string EarliestMoveNote,
    IReadOnlyList<JobHold> Holds,
    IReadOnlyList<string> Flags,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyDictionary<string, double> Metrics,
    OverrideView? OverrideInForce,
    string? WaitingFor,
    IReadOnlyList<DecisionView> Decisions,
    IReadOnlyList<OverrideEventView> Overrides,
    IReadOnlyList<SignalView> RecentSignals);

public sealed record CriterionView(string Metric, string Aggregation, string Comparison, double Threshold, double? Value, int Samples, string Verdict, TimeSpan Window);

public sealed record Soak(TimeSpan Required, TimeSpan Elapsed, bool Met, DateTimeOffset? EndsAt);

public sealed record OverrideView(Guid Id, string Kind, string? Phase, string Actor, string Reason, DateTimeOffset SetAt, DateTimeOffset? ExpiresAt);

public sealed record DecisionView(Guid EventId, long Version, string From, string To, string Direction, string Reason, DateTimeOffset DecidedAt,
    string Policy, long DecidingVersion, long FirstVersion, long LastVersion, bool Quarantined, IReadOnlyList<DecisionCriterion> Criteria);

public sealed record DecisionCriterion(string Metric, string Aggregation, string Comparison, double Threshold, double? Value, int Samples, string Verdict);

public sealed record OverrideEventView(string Type, Guid OverrideId, string Kind, string? Phase, string? Actor, string Reason, DateTimeOffset At, DateTimeOffset? ExpiresAt);

public sealed record SignalView(long Version, long Seq, DateTimeOffset EmittedAt, string Phase, IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// Each criterion's values over time (one per signal since the job's first evaluation in <see cref="ChartedPhase"/>), its
/// thresholds, and where decisions and the soak fall; <see cref="HistoryFrom"/> is the event time of the oldest event read
/// (for the phase timeline). <see cref="ChartedPhase"/> is the job's phase, or, with <see cref="Basis"/> saying why, the
/// phase whose gate moved it (while it has not acknowledged its phase, or its phase has no criteria of its own).
/// </summary>
public sealed record CriterionSeries(
    DateTimeOffset? HistoryFrom,
    string Phase,
    string? NextPhase,
    DateTimeOffset? SoakEndsAt,
    IReadOnlyList<DateTimeOffset> Times,
    IReadOnlyList<SeriesLine> Lines,
    IReadOnlyList<SeriesDecision> Decisions,
    string? ChartedPhase = null,
    string? Basis = null);

public sealed record SeriesLine(string Metric, string Aggregation, string Comparison, double? PromoteThreshold, double? DemoteThreshold, IReadOnlyList<double?> Values);

public sealed record SeriesDecision(DateTimeOffset At, string Direction, string From, string To);

/// <summary>One stored event of a job, newest first in a history page; secret-looking labels masked.</summary>
public sealed record HistoryEvent(long Version, string Type, DateTimeOffset EventTime, DateTimeOffset RecordedAt, long GlobalPosition, System.Text.Json.Nodes.JsonNode? Data);

public sealed record HistoryPage(IReadOnlyList<HistoryEvent> Events, long? Next);
