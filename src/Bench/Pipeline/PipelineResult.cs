using Streaming.Bench.Cpu;
using Streaming.Bench.Latency;

namespace Streaming.Bench.Pipeline;

/// <summary>One run of our pipeline: how long until every signal was stored, and until the projections were current, and the CPU it took.</summary>
public sealed record PipelineResult(
    string Name,
    int Jobs,
    int Messages,
    TimeSpan Ingested,
    TimeSpan ProjectionsCurrent,
    long PeakRssBytes,
    long Decisions,
    long Lost,
    CpuUse Cpu,
    TailLatency Latency)
{
    public double PerSecond => Messages / ProjectionsCurrent.TotalSeconds;
}
