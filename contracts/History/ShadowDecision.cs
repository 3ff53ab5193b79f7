namespace Streaming.Contracts.History;

/// <summary>
/// What a shadow policy would have done to a job, without doing it (event type <c>shadow-decision/v1</c>, in the stream
/// <c>shadow:{policy name}</c>): recorded once per phase the job is in, with the same explanation a real decision carries.
/// </summary>
public sealed record ShadowDecision(
    Guid EventId,
    string Policy,
    string JobId,
    string From,
    string To,
    string Direction,
    DateTimeOffset DecidedAt,
    long DecidingVersion,
    string Reason,
    IReadOnlyList<CriterionOutcome> Criteria)
{
    public const string EventType = "shadow-decision/v1";

    public const string StreamPrefix = "shadow:";

    public static string StreamFor(string policy) => StreamPrefix + policy;
}
