using System.Globalization;
using System.Text.Json.Nodes;

namespace Streaming.Api.Notifications;

/// <summary>
/// What a webhook is sent. <c>json</c>: the generic body (schema <c>streaming-notification/v1</c>: schema, id, key,
/// rule, severity, title, text, subject, occurredAt, createdAt, details), every string JSON-escaped. <c>slack</c>: a
/// Slack incoming-webhook body, <c>{"text": …, "blocks": [header, section, context]}</c>, with <c>&amp;</c>, <c>&lt;</c>
/// and <c>&gt;</c> escaped in what a job or person wrote, so no text becomes a link, a mention or markup.
/// </summary>
public static class WebhookBodies
{
    public const string Schema = "streaming-notification/v1";

    // Slack's limits: a header's text, a section's text.
    const int HeaderLength = 150;
    const int SectionLength = 3000;

    public static JsonObject For(string format, StoredNotification notification) =>
        format == WebhookOptions.Slack ? Slack(notification) : Json(notification);

    public static JsonObject Json(StoredNotification n) => new()
    {
        ["schema"] = Schema,
        ["id"] = n.Id,
        ["key"] = n.Key,
        ["rule"] = n.Rule,
        ["severity"] = n.Severity,
        ["title"] = n.Title,
        ["text"] = n.Text,
        ["subject"] = n.Subject,
        ["occurredAt"] = n.OccurredAt,
        ["createdAt"] = n.CreatedAt,
        ["details"] = JsonNode.Parse(n.Details),
    };

    public static JsonObject Slack(StoredNotification n)
    {
        var marker = n.Severity == Notification.Critical ? ":rotating_light:" : ":warning:";
        return new JsonObject
        {
            ["text"] = $"{marker} {Escape(n.Title)}",
            ["blocks"] = new JsonArray(
                new JsonObject
                {
                    ["type"] = "header",
                    ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = Cut(n.Title, HeaderLength), ["emoji"] = false },
                },
                new JsonObject
                {
                    ["type"] = "section",
                    ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = Cut(Escape(n.Text), SectionLength) },
                },
                new JsonObject
                {
                    ["type"] = "context",
                    ["elements"] = new JsonArray(new JsonObject
                    {
                        ["type"] = "mrkdwn",
                        ["text"] = Escape(string.Create(CultureInfo.InvariantCulture,
                            $"{marker} {n.Severity} · rule {n.Rule}{(n.Subject is null ? "" : " · " + n.Subject)} · {n.OccurredAt:yyyy-MM-dd HH:mm:ss} UTC · #{n.Id}")),
                    }),
                }),
        };
    }

    /// <summary>Slack's control characters in text it formats: nothing a job wrote can become a link or a mention.</summary>
    public static string Escape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    static string Cut(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
