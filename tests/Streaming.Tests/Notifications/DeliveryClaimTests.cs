using Microsoft.Extensions.DependencyInjection;
using Streaming.Api.Notifications;
using Streaming.Cli;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Notifications;

/// <summary>
/// The deliveries one instance claimed and did not send reach the webhook through another promptly: at once when the
/// first stops in order, within twice the webhook timeout when it hangs for good (as a crashed one would).
/// </summary>
public sealed class DeliveryClaimTests : IAsyncLifetime
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    static readonly DateTimeOffset Start = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    readonly TestDatabase _database = new();
    readonly WebhookReceiver _receiver = new();
    readonly List<NotifyingProcess> _processes = [];

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        await _receiver.StartAsync();
    }

    [Fact]
    public async Task An_instance_stopped_mid_send_releases_its_claims_and_another_delivers_them_at_once()
    {
        // Given an instance whose send hangs, with a webhook timeout of a minute (a lease of two), that claimed the
        // three notifications already in the log when it started (one read, one claim: a loaded machine cannot split them)
        await OpenBreakersAsync(3);
        using var hanging = new HangingWebhook(honoursCancellation: true);
        var first = Instance("00:01:00", hanging);
        await first.StartAsync();
        await hanging.Called.WaitAsync(Timeout);

        // When it stops in order and another instance starts
        await first.StopAsync();
        var stoppedAt = DateTimeOffset.UtcNow;
        await Instance("00:01:00").StartAsync();

        // Then the other delivers all three, long before the first one's lease would have ended
        await Eventually.True(() => Task.FromResult(_receiver.Received.Count == 3), Timeout, "three notifications delivered by the second instance");
        Assert.True(DateTimeOffset.UtcNow - stoppedAt < TimeSpan.FromSeconds(60), "delivered within the first instance's webhook timeout");
        Assert.Contains(first.Logs.Entries, e => e.Message.StartsWith("Stopping: released 3 claimed deliveries", StringComparison.Ordinal));
        Assert.Equal(3, _receiver.Received.Select(r => r.IdempotencyKey).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public async Task An_instance_that_hangs_for_good_holds_its_claims_for_twice_the_webhook_timeout_only()
    {
        // Given an instance that claimed three deliveries and hangs in the first send for good (timeout 2 s: lease 4 s;
        // before, a claim held a whole batch's timeouts, 45 s)
        await OpenBreakersAsync(3);
        using var stuck = new HangingWebhook(honoursCancellation: false);
        var first = Instance("00:00:02", stuck);
        await first.StartAsync();
        await stuck.Called.WaitAsync(Timeout);
        var hungAt = DateTimeOffset.UtcNow;

        // When another instance runs
        await Instance("00:00:02").StartAsync();

        // Then it delivers all three once the short lease ends
        await Eventually.True(() => Task.FromResult(_receiver.Received.Count == 3), TimeSpan.FromSeconds(25), "three notifications delivered by the second instance");
        Assert.True(DateTimeOffset.UtcNow - hungAt < TimeSpan.FromSeconds(25));

        // And the hung send, ending at last, does not undo what the other recorded
        stuck.Release();
        await Eventually.True(async () => await CountAsync("select count(*) from notifications.deliveries where state = 'delivered'") == 3
            && first.Logs.Entries.Any(e => e.Message.Contains("not delivered to webhook ops at attempt 1", StringComparison.Ordinal)), Timeout, "the hung send's end");
        Assert.Equal(3, await CountAsync("select count(*) from notifications.deliveries where state = 'delivered'"));
        Assert.Equal(3, _receiver.Received.Select(r => r.IdempotencyKey).Distinct(StringComparer.Ordinal).Count());
    }

    NotifyingProcess Instance(string timeout, HangingWebhook? hanging = null)
    {
        var process = new NotifyingProcess(_database.ConnectionString, "127.0.0.1:9", new Dictionary<string, string?>
        {
            ["Notifications:Webhooks:0:Name"] = "ops",
            ["Notifications:Webhooks:0:Url"] = _receiver.Url("/hooks/ops"),
            ["Notifications:Delivery:Timeout"] = timeout,
            ["Notifications:Delivery:PollInterval"] = "00:00:00.050",
            ["Notifications:Delivery:FirstRetryDelay"] = "00:00:00.050",
            ["Notifications:Delivery:MaxRetryDelay"] = "00:00:00.100",
        }, hanging is null ? null : services => services.AddSingleton(new WebhookSender(new HttpClient(hanging, disposeHandler: false), TimeSpan.Parse(timeout, System.Globalization.CultureInfo.InvariantCulture))));
        _processes.Add(process);
        return process;
    }

    // Before any instance runs: the store's tables are made first, as an instance's start would.
    async Task OpenBreakersAsync(int count)
    {
        await StoreSchema.MigrateAsync(_database.DataSource, CancellationToken.None);
        var streams = new EventStreams(_database.DataSource);
        for (var i = 0; i < count; i++)
        {
            var at = Start.AddMinutes(i);
            var opened = new CircuitBreakerChanged(Guid.NewGuid(), $"p{i}", "b", CircuitBreakerChanged.Open, 3, 8, 0.25, TimeSpan.FromHours(1), at, "tripped by hand");
            await streams.AppendOnceAsync(CircuitBreakerChanged.StreamFor(opened.Policy, opened.Phase),
                new EventToAppend(opened.EventId, CircuitBreakerChanged.EventType, ContractsJson.Serialize(opened), "{}", at), CancellationToken.None);
        }
    }

    async Task<long> CountAsync(string sql)
    {
        await using var command = _database.DataSource.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async Task DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }
        await _receiver.DisposeAsync();
        await _database.DisposeAsync();
    }
}
