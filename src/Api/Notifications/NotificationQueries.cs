using Npgsql;

namespace Streaming.Api.Notifications;

/// <summary>Reads the outbox for the API: notifications newest first, a keyset page at a time, with their deliveries.</summary>
public sealed class NotificationQueries(NpgsqlDataSource dataSource)
{
    public async Task<NotificationPage> PageAsync(string? rule, string? state, string? status, long? before, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            with page as (
                select n.* from notifications.notifications n
                where ($1::text is null or n.rule = $1)
                  and ($2::bigint is null or n.id < $2)
                  and ($3::text is null or exists (select from notifications.deliveries d where d.notification_id = n.id and d.state = $3))
                  and ($5::text is null or n.status = $5)
                order by n.id desc
                limit $4
            )
            select {StoredNotification.Columns},
                   d.webhook, d.state, d.attempts, d.last_status, d.last_error, d.next_attempt_at, d.delivered_at
            from page n left join notifications.deliveries d on d.notification_id = n.id
            order by n.id desc, d.webhook
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)rule ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)before ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)state ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit + 1 });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)status ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        var notifications = new List<NotificationView>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        const int d = StoredNotification.ColumnCount;
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetInt64(0);
            if (notifications.Count == 0 || notifications[^1].Id != id)
            {
                var stored = StoredNotification.Read(reader);
                notifications.Add(new NotificationView(stored.Id, stored.CreatedAt, stored.Notification, []));
            }
            if (!reader.IsDBNull(d))
            {
                var pending = reader.GetString(d + 1) == "pending";
                var delivery = new DeliveryView(
                    reader.GetString(d), reader.GetString(d + 1), reader.GetInt32(d + 2), reader.IsDBNull(d + 3) ? null : reader.GetInt32(d + 3),
                    reader.IsDBNull(d + 4) ? null : reader.GetString(d + 4),
                    pending ? reader.GetFieldValue<DateTimeOffset>(d + 5) : null,
                    reader.IsDBNull(d + 6) ? null : reader.GetFieldValue<DateTimeOffset>(d + 6));
                notifications[^1] = notifications[^1] with { Deliveries = [.. notifications[^1].Deliveries, delivery] };
            }
        }
        var more = notifications.Count > limit;
        var page = more ? notifications[..limit] : notifications;
        return new NotificationPage(page, more ? page[^1].Id : null);
    }
}
