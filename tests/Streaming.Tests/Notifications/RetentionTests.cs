using System.Text.Json.Nodes;
using Streaming.Api.Notifications;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Notifications;

/// <summary>Notifications settled longer ago than the retention are deleted with their deliveries; one still to be delivered, or still firing, never.</summary>
public sealed class RetentionTests : IAsyncLifetime
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    readonly TestDatabase _database = new();
    NotifyingProcess _process = null!;

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        _process = new NotifyingProcess(_database.ConnectionString, "127.0.0.1:9", new Dictionary<string, string?>
        {
            // Deliveries to webhooks this instance does not deliver to: nothing it does moves them.
            ["Notifications:Retention"] = "14.00:00:00",
        });
    }

    [Fact]
    public async Task Settled_notifications_older_than_fourteen_days_are_deleted_and_undelivered_or_firing_ones_kept()
    {
        // Given the schema, and notifications written 15 days ago and today in every state
        await _process.StartAsync();
        await _process.StopAsync();
        await AddAsync("old-delivered", 15, ["delivered", "delivered"]);
        await AddAsync("old-failed", 15, ["failed", "delivered"]);
        await AddAsync("old-no-webhook", 15, []);
        await AddAsync("old-undelivered", 15, ["delivered", "pending"]);
        await AddAsync("old-firing", 15, ["delivered"]);
        await ExecuteAsync("insert into notifications.firing (rule, subject, key) values ('stuck', '', 'old-firing')");
        await AddAsync("new-delivered", 0, ["delivered"]);

        // When the delivering process starts
        await _process.StartAsync();

        // Then the settled old ones are gone with their deliveries, the rest kept
        await Eventually.True(async () => await CountAsync("select count(*) from notifications.notifications where key like 'old-%'") == 2, Timeout, "the settled old ones deleted");
        Assert.Equal(["new-delivered", "old-firing", "old-undelivered"], await KeysAsync());
        Assert.Equal(4, await CountAsync("select count(*) from notifications.deliveries"));
        Assert.Contains(_process.Logs.Entries, e => e.Message.StartsWith("Deleted 3 settled notifications older than 14.00:00:00", StringComparison.Ordinal));
    }

    async Task AddAsync(string key, int daysAgo, string[] deliveries)
    {
        var webhooks = deliveries.Select((_, i) => new WebhookOptions { Name = $"hook-{i}", Url = "http://127.0.0.1:9/" }).ToList();
        await using (var connection = await _database.DataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await new NotificationOutbox(webhooks).AddAsync(transaction,
                [new Notification(key, "stuck", Notification.Warning, key, key, null, DateTimeOffset.UtcNow.AddDays(-daysAgo), new JsonObject())], CancellationToken.None);
            await transaction.CommitAsync();
        }
        await ExecuteAsync($"update notifications.notifications set created_at = now() - interval '{daysAgo} days' where key = '{key}'");
        for (var i = 0; i < deliveries.Length; i++)
        {
            await ExecuteAsync($"update notifications.deliveries d set state = '{deliveries[i]}' from notifications.notifications n where n.id = d.notification_id and n.key = '{key}' and d.webhook = 'hook-{i}'");
        }
    }

    async Task<List<string>> KeysAsync()
    {
        await using var command = _database.DataSource.CreateCommand("select key from notifications.notifications order by key");
        await using var reader = await command.ExecuteReaderAsync();
        var keys = new List<string>();
        while (await reader.ReadAsync())
        {
            keys.Add(reader.GetString(0));
        }
        return keys;
    }

    async Task ExecuteAsync(string sql)
    {
        await using var command = _database.DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    async Task<long> CountAsync(string sql)
    {
        await using var command = _database.DataSource.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async Task DisposeAsync()
    {
        await _process.DisposeAsync();
        await _database.DisposeAsync();
    }
}
