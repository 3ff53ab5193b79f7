namespace Streaming.Contracts.History;

/// <summary>
/// A hold or pin stopped being in force (event type <c>override-ended/v1</c>): <see cref="Reason"/> is <c>expired</c>,
/// <c>released</c> or <c>replaced</c>; <see cref="EndedAt"/> is the job's event time when it ended.
/// </summary>
public sealed record OverrideEnded(Guid EventId, Guid OverrideId, string JobId, string Kind, string Reason, DateTimeOffset EndedAt)
{
    public const string EventType = "override-ended/v1";

    public const string Expired = "expired";
    public const string Released = "released";
    public const string Replaced = "replaced";
}
