using System.Diagnostics.Metrics;
using Streaming.Hosting.Telemetry;

namespace Streaming.Ingest.Consuming;

/// <summary>Ingest's counters as OpenTelemetry instruments, read when metrics are collected.</summary>
static class IngestMetrics
{
    public static IngestCounters Observe(IngestCounters counters, IMeterFactory meters)
    {
        var meter = meters.Create(StreamingTelemetry.MeterName);
        meter.CreateObservableCounter("streaming.signals.ingested", () => counters.Appended, "{signal}", "Signals stored as events");
        meter.CreateObservableCounter("streaming.signals.duplicates", () => counters.Duplicates, "{signal}", "Redelivered or repeated signals stored once");
        meter.CreateObservableCounter("streaming.signals.lost_to_retention", () => counters.LostToRetention, "{message}",
            "Messages the broker deleted before Ingest read them");
        meter.CreateObservableCounter("streaming.ingest.batches", () => counters.Batches, "{batch}", "Batches appended");
        return counters;
    }
}
