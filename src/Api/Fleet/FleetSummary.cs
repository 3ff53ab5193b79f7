using Streaming.LifecycleEvents;
namespace Streaming.Api.Fleet;

/// <summary>The fleet at a glance: jobs per policy and phase with their flags, breakers, waves, known issues, shadow policies, and the jobs that need attention.</summary>
public sealed record FleetSummary(
    DateTimeOffset GeneratedAt,
    IReadOnlyList<PhaseCount> Phases,
    PhaseCount Totals,
    IReadOnlyList<BreakerState> Breakers,
    IReadOnlyList<WaveState> Waves,
    IReadOnlyList<KnownIssueSummary> KnownIssues,
    IReadOnlyList<ShadowAgreementSummary> Shadow,
    IReadOnlyDictionary<string, IReadOnlyList<AttentionJob>> Attention);

/// <summary>Jobs of one policy in one phase, and how many of them carry each flag.</summary>
public sealed record PhaseCount(
    string Policy,
    string Phase,
    int Order,
    int Jobs,
    int AwaitingAck,
    int Stuck,
    int Drifted,
    int Regressed,
    int Quarantined,
    int KnownIssue,
    int HeldOrPinned,
    int WaitingForSlot,
    int Poisoned);

/// <summary>A phase's circuit breaker as its stream last recorded it.</summary>
public sealed record BreakerState(string Policy, string Phase, string State, DateTimeOffset At, string Reason, int Demotions, int Jobs);

/// <summary>Jobs promoted into a phase that have not soaked yet, and jobs waiting for a slot to enter it.</summary>
public sealed record WaveState(string Policy, string Phase, int Jobs, int InFlight, int? MaxInFlight, int Queued, int PromotedLastHour, int? MaxPerHour, bool BreakerOpen);

public sealed record KnownIssueSummary(string Id, string Title, bool Open, int Jobs, IReadOnlyList<string> JobIds,
    IReadOnlyDictionary<string, string> MatchLabels, string OpenedBy, DateTimeOffset OpenedAt, string? ResolvedBy, DateTimeOffset? ResolvedAt, string? Resolution);

public sealed record ShadowAgreementSummary(string Policy, long Agreed, long LiveOnly, long ShadowOnly, long Open, double AgreementRate, double? MeanLeadMinutes);

/// <summary>A job carrying a flag that needs a person's eye, with why.</summary>
public sealed record AttentionJob(string JobId, string Policy, string Phase, string Reason);
