using Streaming.Api.Jobs;
using Streaming.Contracts.History;

namespace Streaming.Api.Approvals;

/// <summary>Approves one job's waiting move, saying why.</summary>
public sealed record ApproveRequest(string? Reason);

/// <summary>
/// Approves every job waiting for approval that the selector matches (policy name, phase, labels that must all match; at
/// least one of them), at most <see cref="Max"/> of them: more matching is refused, and <see cref="DryRun"/> only counts.
/// </summary>
public sealed record BatchApprovalRequest(
    string? Reason, string? Policy, string? Phase, IReadOnlyDictionary<string, string>? Labels, int? Max, bool? DryRun);

/// <summary>What a batch approval matched and approved (none on a dry run); <see cref="Jobs"/> lists the first matched.</summary>
public sealed record BatchApprovalResult(string Scope, int Matched, bool DryRun, int Approved, IReadOnlyList<string> Jobs);

/// <summary>The jobs waiting at one gate of one policy: for approval, and approved but not moved yet.</summary>
public sealed record ApprovalGateCount(string Policy, string From, string? To, int Waiting, int Approved);

/// <summary>A job waiting for approval that a selector matched: the gate it waits at.</summary>
public sealed record WaitingJob(string JobId, string Policy, string Phase);

/// <summary>
/// A job's approvals: the request it waits on now (null when none), with its evidence and the approval given for it,
/// and its approval events, newest first.
/// </summary>
public sealed record JobApprovals(ApprovalWait? Waiting, IReadOnlyList<ApprovalEventView> Events);

/// <summary>The request a job waits on: its gate, when and why, the passing criteria, and the approval given for it if any.</summary>
public sealed record ApprovalWait(string From, string To, string Policy, DateTimeOffset RequestedAt, long DecidingVersion, string Reason,
    IReadOnlyList<DecisionCriterion> Criteria, ApprovalGranted? Granted);

/// <summary>One approval event of a job: <c>requested</c>, <c>granted</c> or <c>lapsed</c>.</summary>
public sealed record ApprovalEventView(string Kind, long Version, DateTimeOffset At, string From, string To, string? Actor, string Reason, string? Scope);
