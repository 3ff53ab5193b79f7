using System.Diagnostics.Metrics;
using Streaming.Hosting.Telemetry;

namespace Streaming.Promoter.Decisions;

/// <summary>The Promoter's decision counts as OpenTelemetry instruments, by direction, and the silent jobs.</summary>
static class DecisionMetrics
{
    public static DecisionCounters Observe(DecisionCounters counters, IMeterFactory meters)
    {
        var meter = meters.Create(StreamingTelemetry.MeterName);
        meter.CreateObservableGauge("streaming.jobs.silent", () => counters.Silent, "{job}",
            "Jobs whose last signal is older than the fleet's event-time watermark minus their policy's silence");
        meter.CreateObservableCounter("streaming.decisions", () => new[]
        {
            new Measurement<long>(counters.Promotions, new KeyValuePair<string, object?>("direction", "promote")),
            new Measurement<long>(counters.Demotions, new KeyValuePair<string, object?>("direction", "demote")),
        }, "{decision}", "Phase changes decided by this process, by direction");
        return counters;
    }
}
