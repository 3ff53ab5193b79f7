using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;
using Streaming.Api.Notifications;
using Streaming.Tests.Infrastructure;
using Streaming.Tests.Surface;

namespace Streaming.Tests.Notifications;

/// <summary>The notifications page in a real browser: firing and resolved notifications, each webhook's delivery by name, filters; screenshotted.</summary>
[Collection(SurfaceCollection.Name)]
public sealed class NotificationPageBrowserTests(SurfaceSystem system, HeadlessChromium browser) : IClassFixture<HeadlessChromium>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    const string Hostile = "<img src=x onerror=alert(1)>";

    [Fact]
    public async Task A_viewer_sees_firing_and_resolved_notifications_with_each_webhooks_delivery_and_filters_them()
    {
        // Given a breaker's firing notification still being retried (the surface's webhook is down), its resolution
        // delivered, and a quarantine the webhook refused
        var run = Guid.NewGuid().ToString("N")[..8];
        var opened = $"breaker-opened:page-{run}";
        var subject = $"page-{run}/reverse_shadow";
        var quarantine = $"quarantined:page-{run}";
        await using (var connection = await system.Database.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            var at = SignalFactory.Start.AddHours(2);
            await system.Services.GetRequiredService<NotificationOutbox>().AddAsync(transaction,
            [
                new Notification(opened, NotificationRules.BreakerOpenedName, Notification.Critical,
                    $"Circuit breaker open: promotions into reverse_shadow (page-{run}) are paused", $"tripped by {Hostile} during the incident",
                    subject, at, new JsonObject()),
                new Notification(Notification.ResolvedKey(opened), NotificationRules.BreakerOpenedName, Notification.Critical,
                    $"Resolved: Circuit breaker open: promotions into reverse_shadow (page-{run}) are paused", "Circuit breaker closed: reset by alice.",
                    subject, at.AddMinutes(30), new JsonObject(), Notification.Resolved, opened),
                new Notification(quarantine, NotificationRules.QuarantinedName, Notification.Warning, $"Job quarantined: {SurfaceSystem.Hostile}",
                    "moved from reverse_shadow to shadow and is quarantined", SurfaceSystem.Hostile, at.AddMinutes(40), new JsonObject()),
            ], CancellationToken.None);
            await SettleAsync(transaction, Notification.ResolvedKey(opened), "delivered", null);
            await SettleAsync(transaction, quarantine, "failed", "HTTP 400 Bad Request: no such channel (refused: not retried)");
            await transaction.CommitAsync();
        }
        await Eventually.True(async () => await system.CountAsync(
            $"select count(*) from notifications.deliveries d join notifications.notifications n on n.id = d.notification_id where n.key = '{opened}' and d.attempts >= 1") == 1,
            Timeout, "the firing notification's delivery attempted");

        // When a viewer opens the page
        var (page, errors) = await BrowserSignIn.SignInAsync(browser, system, "viewer", "/notifications", Timeout);

        // Then each shows its status, rule, subject and each webhook's delivery by name, newest first
        var firing = page.Locator($"#notification-table tr[data-id='{await IdAsync(opened)}']");
        var resolved = page.Locator($"#notification-table tr[data-id='{await IdAsync(Notification.ResolvedKey(opened))}']");
        var refused = page.Locator($"#notification-table tr[data-id='{await IdAsync(quarantine)}']");
        Assert.Equal("firing", await firing.GetAttributeAsync("data-status"));
        Assert.Contains(subject, await firing.InnerTextAsync());
        Assert.Contains("ops retrying", await firing.Locator("li.delivery").InnerTextAsync());
        Assert.Contains("next", await firing.Locator("li.delivery").InnerTextAsync());
        Assert.Contains("Connection", await firing.Locator("li.delivery .error").InnerTextAsync());
        Assert.Contains($"tripped by {Hostile} during the incident", await firing.InnerTextAsync());
        Assert.Equal("resolved", await resolved.GetAttributeAsync("data-status"));
        Assert.Contains("ops delivered", await resolved.Locator("li.delivery").InnerTextAsync());
        Assert.Contains("ops failed", await refused.Locator("li.delivery").InnerTextAsync());
        Assert.Contains("no such channel", await refused.InnerTextAsync());
        Assert.Equal(SurfaceSystem.Hostile, await refused.Locator("td.subject a").InnerTextAsync());
        var order = await page.Locator("#notification-table tbody tr").EvaluateAllAsync<long[]>("rows => rows.map(r => Number(r.dataset.id))");
        Assert.Equal(order.OrderDescending(), order);
        Assert.Equal(0, await page.Locator("#notification-table img, #notification-table script").CountAsync());
        Assert.DoesNotContain(SurfaceSystem.WebhookToken, await page.ContentAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1:9", await page.ContentAsync(), StringComparison.Ordinal);
        await page.ScreenshotAsync(new() { Path = Path.Combine(HeadlessChromium.Screenshots, "notifications.png"), FullPage = true });

        // When the viewer shows only resolved ones, then only the resolution is left of these three
        await page.SelectOptionAsync("#f-status", "resolved");
        await firing.WaitForAsync(new() { State = WaitForSelectorState.Detached, Timeout = (float)Timeout.TotalMilliseconds });
        Assert.Equal(1, await resolved.CountAsync());
        Assert.Equal(0, await firing.CountAsync() + await refused.CountAsync());
        Assert.All(await page.Locator("#notification-table tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.status)"), s => Assert.Equal("resolved", s));

        // And the fleet page links here
        await page.GotoAsync(new Uri(system.BaseUrl, "/fleet").ToString());
        Assert.Equal(1, await page.Locator("header nav a[href='/notifications']").CountAsync());
        Assert.Empty(errors);
        await page.CloseAsync();
    }

    static async Task SettleAsync(NpgsqlTransaction transaction, string key, string state, string? error)
    {
        await using var command = new NpgsqlCommand("""
            update notifications.deliveries d set state = $2, attempts = 1, last_error = $3, delivered_at = case when $2 = 'delivered' then now() end
            from notifications.notifications n where n.id = d.notification_id and n.key = $1
            """, transaction.Connection, transaction);
        command.Parameters.AddWithValue(key);
        command.Parameters.AddWithValue(state);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)error ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        await command.ExecuteNonQueryAsync();
    }

    async Task<long> IdAsync(string key)
    {
        await using var command = system.Database.CreateCommand("select id from notifications.notifications where key = $1");
        command.Parameters.AddWithValue(key);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
