using System.Text.Json.Nodes;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Notifications;

/// <summary>A breaker that closes again is told resolved, once, referring to the notification its opening sent.</summary>
public sealed class BreakerRecoveryTests : IAsyncLifetime
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    static readonly DateTimeOffset Start = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    readonly TestDatabase _database = new();
    readonly WebhookReceiver _receiver = new();
    NotifyingProcess _process = null!;

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        await _receiver.StartAsync();
        _process = new NotifyingProcess(_database.ConnectionString, "127.0.0.1:9", new Dictionary<string, string?>
        {
            ["Notifications:Webhooks:0:Name"] = "ops",
            ["Notifications:Webhooks:0:Url"] = _receiver.Url("/hooks/ops"),
            ["Notifications:Webhooks:1:Name"] = "chat",
            ["Notifications:Webhooks:1:Url"] = _receiver.Url("/slack/chat"),
            ["Notifications:Webhooks:1:Format"] = "slack",
            ["Notifications:Delivery:PollInterval"] = "00:00:00.050",
        });
        await _process.StartAsync();
    }

    [Fact]
    public async Task A_breaker_reset_by_an_operator_sends_one_resolved_notification_naming_the_one_that_fired_across_restarts()
    {
        // Given a breaker that opened and was told
        await BreakerAsync("p0", CircuitBreakerChanged.Open, Start, "3 of 8 jobs demoted out of b within 01:00:00");
        var fired = await BodyAsync("/hooks", "firing", "p0/b");

        // When an operator resets it
        await BreakerAsync("p0", CircuitBreakerChanged.Closed, Start.AddMinutes(20), "reset by alice: checksums fixed");

        // Then both webhooks are told it is resolved, referring to the firing notification, at the closing's event time
        var resolved = await BodyAsync("/hooks", "resolved", "p0/b");
        Assert.Equal(fired["key"]!.GetValue<string>() + ":resolved", resolved["key"]!.GetValue<string>());
        Assert.Equal(fired["key"]!.GetValue<string>(), resolved["resolves"]!.GetValue<string>());
        Assert.Equal("breaker-opened", resolved["rule"]!.GetValue<string>());
        Assert.Equal(Start.AddMinutes(20), resolved["occurredAt"]!.GetValue<DateTimeOffset>());
        Assert.StartsWith("Resolved: Circuit breaker open", resolved["title"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("reset by alice: checksums fixed", resolved["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(Start, resolved["details"]!["firedAt"]!.GetValue<DateTimeOffset>());
        Assert.Null(fired["resolves"]);
        var slack = await Eventually.Get(() => Task.FromResult(_receiver.Received.Where(r => r.Path.StartsWith("/slack", StringComparison.Ordinal)).ToList()),
            r => r.Count == 2, Timeout, "both notifications in the chat");
        var resolvedChat = JsonNode.Parse(slack.Single(r => r.IdempotencyKey.EndsWith(":resolved", StringComparison.Ordinal)).Body)!;
        Assert.StartsWith(":white_check_mark: Resolved: Circuit breaker open", resolvedChat["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("resolved · rule breaker-opened · p0/b", resolvedChat["blocks"]![2]!["elements"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);

        // When the process restarts, a breaker that never opened closes, and another opens and closes
        await _process.StopAsync();
        await _process.StartAsync();
        await BreakerAsync("p2", CircuitBreakerChanged.Closed, Start.AddMinutes(30), "closed at the first promotion attempt");
        await BreakerAsync("p1", CircuitBreakerChanged.Open, Start.AddMinutes(40), "tripped by bob");
        await BreakerAsync("p1", CircuitBreakerChanged.Closed, Start.AddMinutes(50), "reset by bob");
        await BodyAsync("/hooks", "resolved", "p1/b");

        // Then nothing was told twice, and the breaker that never opened resolved nothing
        var keys = _receiver.Received.Where(r => r.Path.StartsWith("/hooks", StringComparison.Ordinal)).Select(r => r.IdempotencyKey).ToList();
        Assert.Equal(4, keys.Count);
        Assert.Equal(4, keys.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(0, await CountAsync("select count(*) from notifications.notifications where subject = 'p2/b'"));
        Assert.Equal(0, await CountAsync("select count(*) from notifications.firing"));
    }

    async Task<JsonNode> BodyAsync(string path, string status, string subject)
    {
        var received = await Eventually.Get(() => Task.FromResult(_receiver.Received), r => r.Any(Matches), Timeout, $"a {status} notification about {subject}");
        return JsonNode.Parse(received.Single(Matches).Body)!;

        bool Matches(ReceivedWebhook r) => r.Path.StartsWith(path, StringComparison.Ordinal)
            && JsonNode.Parse(r.Body) is { } body && body["status"]!.GetValue<string>() == status && body["subject"]!.GetValue<string>() == subject;
    }

    async Task BreakerAsync(string policy, string state, DateTimeOffset at, string reason)
    {
        var changed = new CircuitBreakerChanged(Guid.NewGuid(), policy, "b", state, 3, 8, 0.25, TimeSpan.FromHours(1), at, reason);
        await new EventStreams(_database.DataSource).AppendOnceAsync(CircuitBreakerChanged.StreamFor(policy, "b"),
            new EventToAppend(changed.EventId, CircuitBreakerChanged.EventType, ContractsJson.Serialize(changed), "{}", at), CancellationToken.None);
    }

    async Task<long> CountAsync(string sql)
    {
        await using var command = _database.DataSource.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async Task DisposeAsync()
    {
        await _process.DisposeAsync();
        await _receiver.DisposeAsync();
        await _database.DisposeAsync();
    }
}
