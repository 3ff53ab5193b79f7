using System.Diagnostics.Metrics;
using Streaming.Hosting.Telemetry;
using Streaming.Lifecycle;

namespace Streaming.Api.Notifications;

/// <summary>
/// Gauges for alerting and dashboards: jobs per flag (what the flag rules count) and webhook deliveries per state
/// (sent, failed, pending), as last sampled; and a counter of delivery attempts by outcome.
/// </summary>
public sealed class NotificationMetrics
{
    /// <summary>Flags always exported, zero when no job has them, so alert rules over them have a series to read.</summary>
    public static readonly IReadOnlyList<string> ExportedFlags =
    [
        LifecycleFlags.Stuck, LifecycleFlags.Drifted, LifecycleFlags.Quarantined, LifecycleFlags.Poisoned, NotificationRules.SilentName,
        LifecycleFlags.KnownIssue, LifecycleFlags.WaitingForSlot, LifecycleFlags.Held, LifecycleFlags.Pinned, LifecycleFlags.NoPolicy,
        LifecycleFlags.AwaitingAck, LifecycleFlags.AwaitingApproval,
    ];

    public static readonly IReadOnlyList<string> DeliveryStates = ["pending", "delivered", "failed"];

    readonly Counter<long> _attempts;

    public NotificationMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(StreamingTelemetry.MeterName);
        meter.CreateObservableGauge("streaming.jobs.flagged", () => Flags.Select(f =>
            new Measurement<long>(f.Value, new KeyValuePair<string, object?>("flag", f.Key))), "{job}", "Jobs carrying each flag (stuck, drifted, quarantined, poisoned, silent …)");
        meter.CreateObservableGauge("streaming.notification.deliveries", () => Deliveries.Select(d =>
            new Measurement<long>(d.Value, new KeyValuePair<string, object?>("state", d.Key))), "{delivery}", "Webhook deliveries by state: pending, delivered, failed");
        _attempts = meter.CreateCounter<long>("streaming.notification.attempts", "{attempt}", "Webhook delivery attempts by outcome: delivered, retry, failed");
        // Present from the start, so a rate over it has a series before the first attempt.
        foreach (var outcome in DeliveryStates.Where(s => s != "pending").Append("retry"))
        {
            _attempts.Add(0, new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    public IReadOnlyDictionary<string, long> Flags { get; set; } = ExportedFlags.ToDictionary(f => f, _ => 0L);

    public IReadOnlyDictionary<string, long> Deliveries { get; set; } = DeliveryStates.ToDictionary(s => s, _ => 0L);

    public void Attempted(string outcome) => _attempts.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}
