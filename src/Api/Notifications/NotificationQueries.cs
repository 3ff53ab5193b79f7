using System.Text.Json.Nodes;
using Npgsql;

namespace Streaming.Api.Notifications;

/// <summary>Reads the outbox for the API: notifications newest first, a keyset page at a time, with their deliveries.</summary>
public sealed class NotificationQueries(NpgsqlDataSource dataSource)
{
    public async Task<NotificationPage> PageAsync(string? rule, string? state, long? before, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            with page as (
                select n.* from notifications.notifications n
                where ($1::text is null or n.rule = $1)
                  and ($2::bigint is null or n.id < $2)
                  and ($3::text is null or exists (select from notifications.deliveries d where d.notification_id = n.id and d.state = $3))
                order by n.id desc
                limit $4
            )
            select p.id, p.key, p.rule, p.severity, p.title, p.text, p.subject, p.occurred_at, p.created_at, p.details::text,
                   d.webhook, d.state, d.attempts, d.last_status, d.last_error, d.next_attempt_at, d.delivered_at
            from page p left join notifications.deliveries d on d.notification_id = p.id
            order by p.id desc, d.webhook
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)rule ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)before ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)state ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit + 1 });
        var notifications = new List<NotificationView>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetInt64(0);
            if (notifications.Count == 0 || notifications[^1].Id != id)
            {
                notifications.Add(new NotificationView(
                    id, reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                    reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetFieldValue<DateTimeOffset>(7), reader.GetFieldValue<DateTimeOffset>(8),
                    JsonNode.Parse(reader.GetString(9)), []));
            }
            if (!reader.IsDBNull(10))
            {
                var delivery = new DeliveryView(
                    reader.GetString(10), reader.GetString(11), reader.GetInt32(12), reader.IsDBNull(13) ? null : reader.GetInt32(13),
                    reader.IsDBNull(14) ? null : reader.GetString(14),
                    reader.GetString(11) == "pending" ? reader.GetFieldValue<DateTimeOffset>(15) : null,
                    reader.IsDBNull(16) ? null : reader.GetFieldValue<DateTimeOffset>(16));
                notifications[^1] = notifications[^1] with { Deliveries = [.. notifications[^1].Deliveries, delivery] };
            }
        }
        var more = notifications.Count > limit;
        var page = more ? notifications[..limit] : notifications;
        return new NotificationPage(page, more ? page[^1].Id : null);
    }
}
