using Streaming.Contracts.History;

namespace Streaming.Projections;

/// <summary>
/// The streams that are not jobs: policies, shadow policies and what they would decide, known issues and circuit
/// breakers. Their ids start with a reserved prefix (<c>policy:</c>, <c>shadow-policy:</c>, <c>shadow:</c>,
/// <c>known-issue:</c>, <c>breaker:</c>), which no job id may use.
/// </summary>
public static class ControlStreams
{
    public static bool IsControl(string streamId) =>
        ActivePolicies.IsPolicyStream(streamId)
        || streamId.StartsWith(PolicyPublished.ShadowStreamPrefix, StringComparison.Ordinal)
        || streamId.StartsWith(ShadowDecision.StreamPrefix, StringComparison.Ordinal)
        || KnownIssues.IsKnownIssueStream(streamId)
        || streamId.StartsWith(CircuitBreakerChanged.StreamPrefix, StringComparison.Ordinal);
}
