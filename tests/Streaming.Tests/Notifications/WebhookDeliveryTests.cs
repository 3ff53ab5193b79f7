using System.Text.Json.Nodes;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Notifications;

/// <summary>Webhook delivery from the outbox: a receiver down for a while, a restarted process, both body formats, refusals.</summary>
public sealed class WebhookDeliveryTests : IAsyncLifetime
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    static readonly DateTimeOffset Start = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    // The tokens webhook URLs carry: none may reach a log or a delivery's error.
    const string OpsToken = "SECRET-OPS-7f3a";
    const string ChatToken = "SECRET-CHAT-19bc";
    const string RefuseToken = "SECRET-REFUSE-c0de";

    readonly TestDatabase _database = new();
    readonly WebhookReceiver _receiver = new();
    NotifyingProcess _process = null!;

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        _process = new NotifyingProcess(_database.ConnectionString, "127.0.0.1:9", new Dictionary<string, string?>
        {
            ["Notifications:Webhooks:0:Name"] = "ops",
            ["Notifications:Webhooks:0:Url"] = _receiver.Url($"/hooks/{OpsToken}"),
            ["Notifications:Webhooks:1:Name"] = "chat",
            ["Notifications:Webhooks:1:Url"] = _receiver.Url($"/slack/{ChatToken}"),
            ["Notifications:Webhooks:1:Format"] = "slack",
            ["Notifications:Webhooks:2:Name"] = "refuser",
            ["Notifications:Webhooks:2:Url"] = _receiver.Url($"/refuse/{RefuseToken}"),
            ["Notifications:Webhooks:2:Rules:0"] = "breaker-opened",
            ["Notifications:Delivery:FirstRetryDelay"] = "00:00:00.050",
            ["Notifications:Delivery:MaxRetryDelay"] = "00:00:00.400",
            ["Notifications:Delivery:PollInterval"] = "00:00:00.050",
            ["Notifications:Delivery:MaxAttempts"] = "1000",
            ["Notifications:CheckInterval"] = "00:00:01",
        });
    }

    [Fact]
    public async Task A_receiver_down_for_a_while_gets_every_notification_exactly_once_across_restarts_of_the_delivering_process()
    {
        // Given the delivering process running and the receiver down
        await _process.StartAsync();

        // When five breakers open
        await OpenBreakersAsync(0, 5);

        // Then every delivery is attempted again and again, each failure recorded without the webhook's URL
        await Eventually.True(async () => await CountAsync("select count(*) from notifications.deliveries where webhook <> 'refuser' and state = 'pending' and attempts >= 2") == 10,
            Timeout, "ten deliveries retried while the receiver is down");
        Assert.DoesNotContain(_receiver.Received, r => !r.Path.StartsWith("/refuse", StringComparison.Ordinal));
        var errors = await TextsAsync("select last_error from notifications.deliveries where last_error is not null");
        Assert.All(errors, e => Assert.Contains("Connection", e, StringComparison.OrdinalIgnoreCase));
        Assert.All(errors, e => Assert.DoesNotContain("SECRET", e, StringComparison.Ordinal));

        // When the process stops, the receiver comes up, three more breakers open meanwhile, and a new process starts
        await _process.StopAsync();
        await _receiver.StartAsync();
        await OpenBreakersAsync(5, 3);
        await _process.StartAsync();

        // Then all eight reach each webhook once, by idempotency key
        await Eventually.True(async () => await CountAsync("select count(*) from notifications.deliveries where webhook <> 'refuser' and state = 'delivered'") == 16,
            Timeout, "sixteen deliveries delivered");
        AssertOncePerKey(8);

        // When the process restarts once more and one more breaker opens
        await _process.StopAsync();
        await _process.StartAsync();
        await OpenBreakersAsync(8, 1);
        await Eventually.True(async () => await CountAsync("select count(*) from notifications.deliveries where webhook <> 'refuser' and state = 'delivered'") == 18,
            Timeout, "the ninth notification delivered");

        // Then only the new one was sent: nothing delivered is sent again, nothing is lost
        AssertOncePerKey(9);
        Assert.Equal(9, await CountAsync("select count(*) from notifications.notifications"));
        Assert.DoesNotContain(_process.Logs.Entries, e => e.Message.Contains("SECRET", StringComparison.Ordinal));
        Assert.Contains(_process.Logs.Entries, e => e.Message.Contains("webhook ops", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_generic_body_follows_its_schema_and_the_slack_body_escapes_what_people_wrote()
    {
        await _receiver.StartAsync();
        await _process.StartAsync();
        await OpenBreakersAsync(0, 1, reason: "tripped by <@U123> <!channel> & co: <script>alert(1)</script>");
        await Eventually.True(async () => await CountAsync("select count(*) from notifications.deliveries where state <> 'pending'") == 3, Timeout, "three deliveries settled");

        var json = JsonNode.Parse(Assert.Single(_receiver.Received, r => r.Path.StartsWith("/hooks", StringComparison.Ordinal)).Body)!;
        Assert.Equal("streaming-notification/v1", json["schema"]!.GetValue<string>());
        Assert.Equal("breaker-opened", json["rule"]!.GetValue<string>());
        Assert.Equal("critical", json["severity"]!.GetValue<string>());
        Assert.Equal("p0/b", json["subject"]!.GetValue<string>());
        Assert.Equal(Start, json["occurredAt"]!.GetValue<DateTimeOffset>());
        Assert.Equal(3, json["details"]!["demotions"]!.GetValue<int>());
        Assert.Contains("<script>alert(1)</script>", json["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.StartsWith("breaker-opened:", json["key"]!.GetValue<string>(), StringComparison.Ordinal);

        var slack = JsonNode.Parse(Assert.Single(_receiver.Received, r => r.Path.StartsWith("/slack", StringComparison.Ordinal)).Body)!.AsObject();
        Assert.Equal(["text", "blocks"], slack.Select(p => p.Key));
        Assert.Contains("Circuit breaker open", slack["text"]!.GetValue<string>(), StringComparison.Ordinal);
        var blocks = slack["blocks"]!.AsArray();
        Assert.Equal(["header", "section", "context"], blocks.Select(b => b!["type"]!.GetValue<string>()));
        Assert.Equal("plain_text", blocks[0]!["text"]!["type"]!.GetValue<string>());
        var section = blocks[1]!["text"]!;
        Assert.Equal("mrkdwn", section["type"]!.GetValue<string>());
        Assert.Contains("tripped by &lt;@U123&gt; &lt;!channel&gt; &amp; co: &lt;script&gt;alert(1)&lt;/script&gt;", section["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain("<", section["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Single(blocks[2]!["elements"]!.AsArray());
    }

    [Fact]
    public async Task A_webhook_that_refuses_a_notification_fails_it_at_once_with_the_answer_and_without_its_url()
    {
        await _receiver.StartAsync();
        await _process.StartAsync();
        await OpenBreakersAsync(0, 1);
        await Eventually.True(async () => await CountAsync("select count(*) from notifications.deliveries where webhook = 'refuser' and state = 'failed'") == 1,
            Timeout, "the refused delivery failed");

        var error = Assert.Single(await TextsAsync("select last_error from notifications.deliveries where webhook = 'refuser'"));
        Assert.Equal("HTTP 400 Bad Request: no such channel (refused: not retried)", error);
        Assert.Equal(1, await CountAsync("select attempts from notifications.deliveries where webhook = 'refuser'"));
        Assert.Single(_receiver.Received, r => r.Path.StartsWith("/refuse", StringComparison.Ordinal));
    }

    // Breakers of policy p{i} over phase b open in event time, one a minute from Start.
    async Task OpenBreakersAsync(int from, int count, string reason = "3 of 8 jobs demoted out of b within 01:00:00")
    {
        var streams = new EventStreams(_database.DataSource);
        for (var i = from; i < from + count; i++)
        {
            var at = Start.AddMinutes(i);
            var opened = new CircuitBreakerChanged(Guid.NewGuid(), $"p{i}", "b", CircuitBreakerChanged.Open, 3, 5, 0.25, TimeSpan.FromHours(1), at, reason);
            await streams.AppendOnceAsync(CircuitBreakerChanged.StreamFor(opened.Policy, opened.Phase),
                new EventToAppend(opened.EventId, CircuitBreakerChanged.EventType, ContractsJson.Serialize(opened), "{}", at), CancellationToken.None);
        }
    }

    void AssertOncePerKey(int notifications)
    {
        foreach (var path in new[] { "/hooks", "/slack" })
        {
            var keys = _receiver.Received.Where(r => r.Path.StartsWith(path, StringComparison.Ordinal)).GroupBy(r => r.IdempotencyKey).ToList();
            Assert.Equal(notifications, keys.Count);
            Assert.All(keys, k => Assert.Single(k));
        }
    }

    async Task<long> CountAsync(string sql)
    {
        await using var command = _database.DataSource.CreateCommand(sql);
        try
        {
            return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return -1;
        }
    }

    async Task<List<string>> TextsAsync(string sql)
    {
        await using var command = _database.DataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        var texts = new List<string>();
        while (await reader.ReadAsync())
        {
            texts.Add(reader.GetString(0));
        }
        return texts;
    }

    public async Task DisposeAsync()
    {
        await _process.DisposeAsync();
        await _receiver.DisposeAsync();
        await _database.DisposeAsync();
    }
}
