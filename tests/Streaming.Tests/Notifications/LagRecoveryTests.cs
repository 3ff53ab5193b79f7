using System.Text.Json.Nodes;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Notifications;

/// <summary>A periodic condition that clears (Ingest catching up with the broker) is told resolved once, after its hold, across restarts.</summary>
public sealed class LagRecoveryTests : IAsyncLifetime
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    readonly Pipeline _pipeline = new();
    readonly WebhookReceiver _receiver = new();
    NotifyingProcess _process = null!;

    public async Task InitializeAsync()
    {
        await _pipeline.InitializeAsync();
        await _receiver.StartAsync();
        _process = new NotifyingProcess(_pipeline.ConnectionString, _pipeline.Kafka.BootstrapServers, new Dictionary<string, string?>
        {
            ["Notifications:Webhooks:0:Name"] = "ops",
            ["Notifications:Webhooks:0:Url"] = _receiver.Url("/hooks/ops"),
            ["Notifications:Webhooks:0:Rules:0"] = "consumer-lag",
            ["Notifications:Delivery:PollInterval"] = "00:00:00.050",
            // The sampler samples every 2 s; a check reads a sample at most two intervals old.
            ["Notifications:CheckInterval"] = "00:00:01.500",
            ["Notifications:ResolveAfter"] = "00:00:03",
            ["Notifications:Rules:ConsumerLag:Threshold"] = "5",
            ["Notifications:Rules:ConsumerLag:CoolDown"] = "00:00:10",
        }, NotifyingProcess.SamplePipeline);
        await _process.StartAsync();
    }

    [Fact]
    public async Task Ingest_falling_behind_fires_and_catching_up_resolves_once_after_the_hold()
    {
        // Given Ingest stopped while ten signals reach the broker
        await _pipeline.StopIngestAsync();
        using var producer = SignalFactory.Producer(_pipeline.Kafka.BootstrapServers);
        producer.Produce(SignalFactory.Minutes("lagging-job", 0, 10, "shadow", SignalFactory.Good));

        // Then the lag is told (again every cool-down while it lasts)
        await BodiesAsync("firing", b => b.Count >= 1);

        // When Ingest starts again and catches up
        await _pipeline.StartIngestAsync();

        // Then, once the lag has stayed under the threshold for the hold, it is told resolved once, referring to the last firing
        var resolved = Assert.Single(await BodiesAsync("resolved", b => b.Count >= 1));
        var fired = (await BodiesAsync("firing", b => b.Count >= 1)).MaxBy(b => b["occurredAt"]!.GetValue<DateTimeOffset>())!;
        Assert.Equal(fired["key"]!.GetValue<string>(), resolved["resolves"]!.GetValue<string>());
        Assert.Equal(fired["key"]!.GetValue<string>() + ":resolved", resolved["key"]!.GetValue<string>());
        Assert.Equal("consumer-lag", resolved["rule"]!.GetValue<string>());
        Assert.StartsWith("Resolved: Ingest lag: ", resolved["title"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, resolved["details"]!["messages"]!.GetValue<long>());
        var resolvedAt = resolved["occurredAt"]!.GetValue<DateTimeOffset>();
        Assert.True(resolvedAt - fired["occurredAt"]!.GetValue<DateTimeOffset>() >= TimeSpan.FromSeconds(3), "held for ResolveAfter");

        // When the process restarts and Ingest falls behind again
        await _process.StopAsync();
        await _process.StartAsync();
        await _pipeline.StopIngestAsync();
        producer.Produce(SignalFactory.Minutes("lagging-job", 10, 10, "shadow", SignalFactory.Good));
        await BodiesAsync("firing", b => b.Any(n => n["occurredAt"]!.GetValue<DateTimeOffset>() > resolvedAt));

        // Then the resolution was told once, and nothing twice
        Assert.Single(await BodiesAsync("resolved", b => b.Count >= 1));
        var told = _receiver.Received.Select(r => r.IdempotencyKey).ToList();
        Assert.Equal(told.Count, told.Distinct(StringComparer.Ordinal).Count());
        await _pipeline.StartIngestAsync();
    }

    Task<List<JsonNode>> BodiesAsync(string status, Func<List<JsonNode>, bool> done) =>
        Eventually.Get(() => Task.FromResult(_receiver.Received.Select(r => JsonNode.Parse(r.Body)!).Where(b => b["status"]!.GetValue<string>() == status).ToList()),
            done, Timeout, $"{status} consumer-lag notifications");

    public async Task DisposeAsync()
    {
        await _process.DisposeAsync();
        await _receiver.DisposeAsync();
        await _pipeline.DisposeAsync();
    }
}
