using Npgsql;
using NpgsqlTypes;

namespace Streaming.Api.Notifications;

/// <summary>
/// Writes notifications into the outbox inside the caller's transaction (the one that moves the fold's checkpoint or the
/// rule's state), each with a pending delivery per webhook that takes its rule. A key already there is left alone, so a
/// batch folded twice, or a check whose commit went unacknowledged, tells nothing twice.
/// </summary>
public sealed class NotificationOutbox(IReadOnlyList<WebhookOptions> webhooks)
{
    /// <summary>Adds the notifications whose keys are new; returns how many were.</summary>
    public async Task<int> AddAsync(NpgsqlTransaction transaction, IReadOnlyList<Notification> notifications, CancellationToken cancellationToken)
    {
        if (notifications.Count == 0)
        {
            return 0;
        }
        var added = new List<(long Id, string Rule)>();
        await using (var insert = new NpgsqlCommand("""
            insert into notifications.notifications (key, rule, severity, title, text, subject, occurred_at, details, status, resolves)
            select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::jsonb[], $9::text[], $10::text[])
            on conflict (key) do nothing
            returning id, rule
            """, transaction.Connection, transaction))
        {
            Text(insert, notifications.Select(n => n.Key));
            Text(insert, notifications.Select(n => n.Rule));
            Text(insert, notifications.Select(n => n.Severity));
            Text(insert, notifications.Select(n => n.Title));
            Text(insert, notifications.Select(n => n.Text));
            Text(insert, notifications.Select(n => n.Subject));
            insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = [.. notifications.Select(n => n.OccurredAt.ToUniversalTime())] });
            insert.Parameters.Add(new NpgsqlParameter<string[]>
            {
                TypedValue = [.. notifications.Select(n => n.Details.ToJsonString())],
                NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb,
            });
            Text(insert, notifications.Select(n => n.Status));
            Text(insert, notifications.Select(n => n.Resolves));
            await using var reader = await insert.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                added.Add((reader.GetInt64(0), reader.GetString(1)));
            }
        }
        var deliveries = added.SelectMany(a => webhooks.Where(w => w.Takes(a.Rule)).Select(w => (a.Id, w.Name))).ToList();
        if (deliveries.Count > 0)
        {
            await using var deliver = new NpgsqlCommand("""
                insert into notifications.deliveries (notification_id, webhook, state)
                select id, webhook, 'pending' from unnest($1::bigint[], $2::text[]) as d (id, webhook)
                """, transaction.Connection, transaction);
            deliver.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. deliveries.Select(d => d.Id)] });
            Text(deliver, deliveries.Select(d => d.Name));
            await deliver.ExecuteNonQueryAsync(cancellationToken);
        }
        return added.Count;
    }

    static void Text(NpgsqlCommand command, IEnumerable<string?> values) =>
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = [.. values], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
}
