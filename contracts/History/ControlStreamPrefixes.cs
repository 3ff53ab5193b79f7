namespace Streaming.Contracts.History;

/// <summary>The stream id prefixes of the streams that are not jobs; no job id may start with one.</summary>
public static class ControlStreamPrefixes
{
    public static IReadOnlyList<string> All { get; } =
    [
        PolicyPublished.StreamPrefix,
        PolicyPublished.ShadowStreamPrefix,
        ShadowDecision.StreamPrefix,
        KnownIssueOpened.StreamPrefix,
        CircuitBreakerChanged.StreamPrefix,
        PromotionsPaused.StreamPrefix,
        AdmissionRequested.StreamPrefix,
        BreakerCountReported.StreamPrefix,
    ];

    public static string? Of(string streamId)
    {
        foreach (var prefix in All)
        {
            if (streamId.StartsWith(prefix, StringComparison.Ordinal))
            {
                return prefix;
            }
        }
        return null;
    }
}
