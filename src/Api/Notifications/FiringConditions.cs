using System.Text.Json.Nodes;
using Npgsql;

namespace Streaming.Api.Notifications;

/// <summary>
/// What fires and is not resolved yet (<c>notifications.firing</c>, one row per rule and subject), read and written in
/// the caller's transaction: the one that writes the firing notification records it, and the one that resolves it
/// removes it and writes the resolved notification, keyed after the firing one, so it is told once across restarts.
/// </summary>
public sealed class FiringConditions(NotificationOutbox outbox)
{
    /// <summary>The subject of a periodic rule's condition (the rule as a whole).</summary>
    public const string Whole = "";

    public static async Task FiredAsync(NpgsqlTransaction transaction, string rule, string subject, string key, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            insert into notifications.firing (rule, subject, key) values ($1, $2, $3)
            on conflict (rule, subject) do update set key = excluded.key, clear_since = null
            """, transaction.Connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = rule });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = subject });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public static async Task<FiringCondition?> FindAsync(NpgsqlTransaction transaction, string rule, string subject, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "select key, clear_since from notifications.firing where rule = $1 and subject = $2 for update", transaction.Connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = rule });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = subject });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new FiringCondition(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1))
            : null;
    }

    public static async Task HoldAsync(NpgsqlTransaction transaction, string rule, string subject, DateTimeOffset? clearSince, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "update notifications.firing set clear_since = $3 where rule = $1 and subject = $2", transaction.Connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = rule });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = subject });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)clearSince?.ToUniversalTime() ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Ends the condition: forgets it and writes one <c>resolved</c> notification (the firing one's title after
    /// "Resolved: ", <paramref name="text"/> saying how it stands now) referring to the firing notification.
    /// </summary>
    public async Task ResolveAsync(
        NpgsqlTransaction transaction, string rule, string subject, FiringCondition firing, DateTimeOffset at, string text, JsonObject details,
        CancellationToken cancellationToken)
    {
        await using (var forget = new NpgsqlCommand("delete from notifications.firing where rule = $1 and subject = $2", transaction.Connection, transaction))
        {
            forget.Parameters.Add(new NpgsqlParameter<string> { TypedValue = rule });
            forget.Parameters.Add(new NpgsqlParameter<string> { TypedValue = subject });
            await forget.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var fired = new NpgsqlCommand("select severity, title, occurred_at from notifications.notifications where key = $1", transaction.Connection, transaction);
        fired.Parameters.Add(new NpgsqlParameter<string> { TypedValue = firing.Key });
        var (severity, title, firedAt) = (Notification.Warning, rule, (DateTimeOffset?)null);
        await using (var reader = await fired.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                (severity, title, firedAt) = (reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2));
            }
        }
        details["resolves"] = firing.Key;
        details["firedAt"] = firedAt;
        await outbox.AddAsync(transaction, [new Notification(
            Notification.ResolvedKey(firing.Key), rule, severity, "Resolved: " + title, text, subject == Whole ? null : subject, at, details,
            Notification.Resolved, firing.Key)], cancellationToken);
    }
}
