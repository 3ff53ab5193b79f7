using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Tests.Infrastructure;
using Streaming.Tests.Notifications;

namespace Streaming.Tests.Surface;

/// <summary>What the running API exports and tells: every metric the alert rules and the dashboard read, and its notifications.</summary>
[Collection(SurfaceCollection.Name)]
public sealed class MonitoringTests(SurfaceSystem system)
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Every_metric_the_alert_rules_their_tests_and_the_dashboard_name_is_one_the_api_exports()
    {
        // A message Ingest refuses, so the dead-letter counters have a sample.
        using (var producer = SignalFactory.Producer(system.Pipeline.Kafka.BootstrapServers))
        {
            producer.Produce(global::Streaming.Contracts.Topics.Signals, new Confluent.Kafka.Message<string, byte[]> { Key = "monitoring-bad", Value = "not json"u8.ToArray() });
            producer.Flush(Timeout);
        }
        // A breaker that opened and closed again (the gauge has a series per breaker there is).
        var closed = new CircuitBreakerChanged(Guid.NewGuid(), "monitoring", "idle", CircuitBreakerChanged.Closed, 0, 10, 0.25, TimeSpan.FromHours(1),
            SignalFactory.Start, "closed at the first promotion attempt");
        await new EventStreams(system.Database).AppendOnceAsync(CircuitBreakerChanged.StreamFor(closed.Policy, closed.Phase),
            new EventToAppend(closed.EventId, CircuitBreakerChanged.EventType, ContractsJson.Serialize(closed), "{}", closed.At), CancellationToken.None);
        var named = MonitoringFiles.AlertExpressions().Concat(MonitoringFiles.DashboardExpressions()).SelectMany(MonitoringFiles.MetricNames)
            .Concat(MonitoringFiles.TestSeries().Select(s => s.Split('{')[0]))
            .ToHashSet(StringComparer.Ordinal);
        Assert.Contains("streaming_breaker_open", named);
        Assert.Contains("streaming_jobs_flagged", named);

        using var viewer = system.Client("viewer");
        var missing = await Eventually.Get(async () =>
            {
                var exported = MonitoringFiles.Exported(await viewer.GetStringAsync("/metrics"));
                return string.Join(", ", named.Where(n => !exported.Contains(n)).Order(StringComparer.Ordinal));
            },
            m => m.Length == 0, Timeout, "every metric named by the alert rules and the dashboard on /metrics (missing ones listed)");

        Assert.Equal("", missing);
    }

    [Fact]
    public async Task A_viewer_reads_the_notifications_with_each_webhooks_delivery_state_attempts_and_last_error()
    {
        using var viewer = system.Client("viewer");
        var page = await Eventually.Get(() => viewer.GetFromJsonAsync<JsonObject>("/api/v1/notifications?rule=stuck"),
            p => p!["notifications"]!.AsArray().Any(n => n!["deliveries"]!.AsArray().Any(d => d!["attempts"]!.GetValue<int>() >= 1)),
            Timeout, "the stuck job's notification, attempted");

        var view = page!["notifications"]!.AsArray().Single()!;
        var stuck = view["notification"]!;
        Assert.Equal(("stuck", "firing"), (stuck["rule"]!.GetValue<string>(), stuck["status"]!.GetValue<string>()));
        Assert.Contains(SurfaceSystem.Stuck, stuck["title"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(SurfaceSystem.Stuck, stuck["details"]!["jobs"]![0]!.GetValue<string>());
        var delivery = view["deliveries"]!.AsArray().Single()!;
        Assert.Equal(("ops", "pending"), (delivery["webhook"]!.GetValue<string>(), delivery["state"]!.GetValue<string>()));
        Assert.Contains("Connection", delivery["lastError"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(SurfaceSystem.WebhookToken, page.ToJsonString(), StringComparison.Ordinal);

        var alias = await viewer.GetFromJsonAsync<JsonObject>("/api/notifications?limit=1");
        Assert.Single(alias!["notifications"]!.AsArray());
        Assert.Equal(HttpStatusCode.BadRequest, (await viewer.GetAsync("/api/v1/notifications?limit=0")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await viewer.GetAsync("/api/v1/notifications?rule=nonsense")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await viewer.GetAsync("/api/v1/notifications?status=nonsense")).StatusCode);
        using var anonymous = system.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/notifications")).StatusCode);
        Assert.DoesNotContain(system.Logs.Entries, e => e.Message.Contains(SurfaceSystem.WebhookToken, StringComparison.Ordinal));
    }
}
