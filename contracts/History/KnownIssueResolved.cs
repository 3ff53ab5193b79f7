namespace Streaming.Contracts.History;

/// <summary>A known issue was resolved (event type <c>known-issue-resolved/v1</c>): its jobs are the policy's again, promoted within the waves.</summary>
public sealed record KnownIssueResolved(string IssueId, string ResolvedBy, string Reason, DateTimeOffset ResolvedAt)
{
    public const string EventType = "known-issue-resolved/v1";
}
