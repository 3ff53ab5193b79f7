namespace Streaming.Contracts.History;

/// <summary>
/// A known issue was opened (event type <c>known-issue-opened/v1</c>, in the stream <c>known-issue:{id}</c>): the jobs it
/// names or whose labels match are held, never promoted, until it is resolved.
/// </summary>
public sealed record KnownIssueOpened(
    string IssueId,
    string Title,
    IReadOnlyList<string> JobIds,
    IReadOnlyDictionary<string, string> MatchLabels,
    string OpenedBy,
    DateTimeOffset OpenedAt)
{
    public const string EventType = "known-issue-opened/v1";

    public const string StreamPrefix = "known-issue:";

    public static string StreamFor(string issueId) => StreamPrefix + issueId;
}
