using System.Diagnostics.Metrics;
using Streaming.Hosting.Telemetry;

namespace Streaming.Promoter.Decisions;

/// <summary>The Promoter's decision counts as OpenTelemetry instruments, by direction.</summary>
static class DecisionMetrics
{
    public static DecisionCounters Observe(DecisionCounters counters, IMeterFactory meters)
    {
        meters.Create(StreamingTelemetry.MeterName).CreateObservableCounter("streaming.decisions", () => new[]
        {
            new Measurement<long>(counters.Promotions, new KeyValuePair<string, object?>("direction", "promote")),
            new Measurement<long>(counters.Demotions, new KeyValuePair<string, object?>("direction", "demote")),
        }, "{decision}", "Phase changes decided by this process, by direction");
        return counters;
    }
}
