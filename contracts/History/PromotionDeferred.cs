namespace Streaming.Contracts.History;

/// <summary>
/// The policy would promote the job, but the phase it would enter has no slot for it yet (event type
/// <c>promotion-deferred/v1</c>, in the job's stream, once each time the job joins that phase's queue). <see cref="Cause"/>
/// is <c>wave</c> (the wave is full: <see cref="InFlight"/> of <see cref="MaxInFlight"/> not yet soaked, or
/// <see cref="PromotedLastHour"/> of <see cref="MaxPerHour"/> promotions in the last hour, with <see cref="Ahead"/>
/// jobs before it in the queue) or <c>breaker</c> (the phase's circuit breaker is open). The criteria are those of the
/// promotion it waits to make. The job waits until it is promoted, or until it stops qualifying for the promotion.
/// </summary>
public sealed record PromotionDeferred(
    Guid EventId,
    string JobId,
    string From,
    string To,
    string Cause,
    string Reason,
    int Ahead,
    int InFlight,
    int? MaxInFlight,
    int PromotedLastHour,
    int? MaxPerHour,
    DateTimeOffset DecidedAt,
    string Policy,
    long DecidingVersion,
    long FirstVersion,
    long LastVersion,
    IReadOnlyList<CriterionOutcome> Criteria)
{
    public const string EventType = "promotion-deferred/v1";

    public const string Wave = "wave";
    public const string Breaker = "breaker";
    public const string Paused = "paused";
    public const string Window = "window";
    public const string Silent = "silent";
}
