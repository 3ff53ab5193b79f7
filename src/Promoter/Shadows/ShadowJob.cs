using System.Collections.Immutable;

namespace Streaming.Promoter.Shadows;

/// <summary>Every shadow policy's track of one job, by policy name.</summary>
public sealed record ShadowJob(string JobId, ImmutableSortedDictionary<string, ShadowTrack> Tracks)
{
    public static ShadowJob Empty(string jobId) => new(jobId, ImmutableSortedDictionary.Create<string, ShadowTrack>(StringComparer.Ordinal));
}
