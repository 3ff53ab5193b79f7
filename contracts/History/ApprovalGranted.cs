namespace Streaming.Contracts.History;

/// <summary>
/// An operator approved the job's move through the gate <see cref="From"/> → <see cref="To"/> (event type
/// <c>approval-granted/v1</c>, in the job's stream, so every replay meets it in its place in the log). <see cref="Scope"/>
/// says how it was given: <c>job</c>, or the batch selector it was part of. It permits one move: the promotion it allows
/// consumes it, and it lapses if the criteria stop holding first.
/// </summary>
public sealed record ApprovalGranted(
    Guid ApprovalId,
    string JobId,
    string From,
    string To,
    string Actor,
    string Reason,
    string Scope,
    DateTimeOffset GrantedAt)
{
    public const string EventType = "approval-granted/v1";

    /// <summary>The <see cref="Scope"/> of an approval given to one job by name.</summary>
    public const string OneJob = "job";
}
