namespace Streaming.Api.Writes;

/// <summary>An override of one job: <c>hold</c>, <c>release</c>, <c>pin</c> (to <see cref="Phase"/>), <c>force-promote</c> or <c>force-demote</c>, why, and for how long (<c>90m</c>, <c>4h</c>; hold and pin only).</summary>
public sealed record OverrideRequest(string? Kind, string? Phase, string? Reason, string? For);

/// <summary>Opens a known issue naming jobs, a label selector, or both.</summary>
public sealed record KnownIssueRequest(string? Id, string? Title, IReadOnlyList<string>? Jobs, IReadOnlyDictionary<string, string>? Labels);

/// <summary>Why a known issue is resolved, or a breaker reset.</summary>
public sealed record ReasonRequest(string? Reason);

/// <summary>Pauses promotions: of the fleet (no policy), a policy, or one phase of a policy (promotions into it); why, and for how long in the fleet's event time (<c>2h</c>; none: until resumed).</summary>
public sealed record PauseRequest(string? Policy, string? Phase, string? Reason, string? For);

/// <summary>Resumes promotions in a scope an operator paused.</summary>
public sealed record ResumeRequest(string? Policy, string? Phase, string? Reason);
