namespace Streaming.Api.Notifications;

/// <summary>
/// One webhook: a name (what logs, the API and metrics show: its URL may hold a token and is never shown), the URL,
/// the body's format (<c>json</c>, the generic schema, or <c>slack</c>), and which rules go to it (empty: all).
/// </summary>
public sealed class WebhookOptions
{
    public const string Json = "json";
    public const string Slack = "slack";

    public string Name { get; set; } = "";

    public string Url { get; set; } = "";

    public string Format { get; set; } = Json;

    public List<string> Rules { get; set; } = [];

    public bool Takes(string rule) => Rules.Count == 0 || Rules.Contains(rule, StringComparer.Ordinal);

    public IEnumerable<string> Problems(string path)
    {
        if (string.IsNullOrWhiteSpace(Name) || Name.Length > 100)
        {
            yield return $"{path}:Name is required (at most 100 characters)";
        }
        if (!Uri.TryCreate(Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            // The URL itself is left out: it may hold a token.
            yield return $"{path}:Url must be an absolute http or https URL";
        }
        if (Format is not (Json or Slack))
        {
            yield return $"{path}:Format must be '{Json}' or '{Slack}'";
        }
        foreach (var rule in Rules.Where(r => !NotificationRules.Names.Contains(r, StringComparer.Ordinal)))
        {
            yield return $"{path}:Rules: '{rule}' is not a rule ({string.Join(", ", NotificationRules.Names)})";
        }
    }
}
