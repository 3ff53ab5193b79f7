using System.Globalization;
using System.Text.Json.Nodes;

namespace Streaming.Api.Notifications;

/// <summary>
/// What a webhook is sent. <c>json</c>: the generic body (schema <c>streaming-notification/v1</c>: schema, id, key,
/// rule, severity, title, text, subject, occurredAt, createdAt, details, and, added within v1, status
/// (<c>firing</c> or <c>resolved</c>) and resolves, the key of the firing notification a resolved one ends), every
/// string JSON-escaped. <c>slack</c>: a
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

    public static JsonObject Json(StoredNotification stored)
    {
        var n = stored.Notification;
        return new JsonObject
        {
            ["schema"] = Schema,
            ["id"] = stored.Id,
            ["key"] = n.Key,
            ["rule"] = n.Rule,
            ["severity"] = n.Severity,
            ["status"] = n.Status,
            ["resolves"] = n.Resolves,
            ["title"] = n.Title,
            ["text"] = n.Text,
            ["subject"] = n.Subject,
            ["occurredAt"] = n.OccurredAt,
            ["createdAt"] = stored.CreatedAt,
            ["details"] = n.Details.DeepClone(),
        };
    }

    public static JsonObject Slack(StoredNotification stored)
    {
        var n = stored.Notification;
        var resolved = n.Status == Notification.Resolved;
        var marker = resolved ? ":white_check_mark:" : n.Severity == Notification.Critical ? ":rotating_light:" : ":warning:";
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
                            $"{marker} {(resolved ? "resolved" : n.Severity)} · rule {n.Rule}{(n.Subject is null ? "" : " · " + n.Subject)} · {n.OccurredAt:yyyy-MM-dd HH:mm:ss} UTC · #{stored.Id}")),
                    }),
                }),
        };
    }

    /// <summary>Slack's control characters in text it formats: nothing a job wrote can become a link or a mention.</summary>
    public static string Escape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    static string Cut(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
