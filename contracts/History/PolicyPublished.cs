namespace Streaming.Contracts.History;

/// <summary>
/// A version of a lifecycle policy was published (event type <c>policy-published/v1</c>, in the stream
/// <c>policy:{name}</c>): the whole document, who published it and when. Every decision names the version it used.
/// </summary>
public sealed record PolicyPublished(string Name, int Version, string Text, string Sha256, string PublishedBy, DateTimeOffset PublishedAt)
{
    public const string EventType = "policy-published/v1";

    public const string StreamPrefix = "policy:";

    /// <summary>Where shadow policies are published: they run beside the policies in force and only say what they would do.</summary>
    public const string ShadowStreamPrefix = "shadow-policy:";

    public static string StreamFor(string name) => StreamPrefix + name;

    public static string ShadowStreamFor(string name) => ShadowStreamPrefix + name;
}
