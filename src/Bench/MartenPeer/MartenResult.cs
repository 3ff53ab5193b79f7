using Streaming.Bench.Cpu;
using Streaming.Bench.Latency;

namespace Streaming.Bench.MartenPeer;

/// <summary>
/// One run of the Marten peer: how long until every signal was appended, and until its projection (if any) had
/// caught up, the CPU it took, and what the checks after the run found wrong, if anything.
/// </summary>
public sealed record MartenResult(
    string Name,
    string Projection,
    int Jobs,
    int Messages,
    TimeSpan Appended,
    TimeSpan ProjectionsCurrent,
    long PeakRssBytes,
    long Lost,
    CpuUse Cpu,
    TailLatency? Latency,
    string? Problem)
{
    public double AppendsPerSecond => Messages / Appended.TotalSeconds;

    public double PerSecond => Messages / ProjectionsCurrent.TotalSeconds;
}
