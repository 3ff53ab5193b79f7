namespace Streaming.Contracts.History;

/// <summary>
/// An operator's override of a job, in its stream (event type <c>override-set/v1</c>): <see cref="Kind"/> is
/// <c>hold</c>, <c>release</c>, <c>pin</c> (to <see cref="Phase"/>), <c>force-promote</c> or <c>force-demote</c>; who set
/// it, why, when, and until when (in the job's event time; null: until released).
/// </summary>
public sealed record OverrideSet(
    Guid OverrideId,
    string JobId,
    string Kind,
    string? Phase,
    string Actor,
    string Reason,
    DateTimeOffset SetAt,
    DateTimeOffset? ExpiresAt)
{
    public const string EventType = "override-set/v1";
}
