using System.Text.Json.Nodes;
using Npgsql;

namespace Streaming.Api.Notifications;

/// <summary>A notification as the outbox holds it: its row's id and when it was written.</summary>
public sealed record StoredNotification(long Id, DateTimeOffset CreatedAt, Notification Notification)
{
    /// <summary>The columns <see cref="Read"/> reads, in its order, of <c>notifications.notifications</c> aliased <c>n</c>.</summary>
    public const string Columns = "n.id, n.created_at, n.key, n.rule, n.severity, n.title, n.text, n.subject, n.occurred_at, n.details::text, n.status, n.resolves";

    /// <summary>How many columns <see cref="Columns"/> names: the first column after them.</summary>
    public const int ColumnCount = 12;

    public static StoredNotification Read(NpgsqlDataReader reader) => new(
        reader.GetInt64(0),
        reader.GetFieldValue<DateTimeOffset>(1),
        new Notification(
            reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetString(6),
            reader.IsDBNull(7) ? null : reader.GetString(7), reader.GetFieldValue<DateTimeOffset>(8),
            JsonNode.Parse(reader.GetString(9))!.AsObject(), reader.GetString(10), reader.IsDBNull(11) ? null : reader.GetString(11)));
}
