namespace Streaming.Lifecycle.Approvals;

/// <summary>An operator's approval of one job's waiting move: who, why, how it was given (one job or a batch) and when.</summary>
public sealed record ApprovalGrant(Guid ApprovalId, string Actor, string Reason, string Scope, DateTimeOffset GrantedAt);
