using Streaming.Bench.Cpu;

namespace Streaming.Bench.Scale;

/// <summary>
/// One measurement with N processes of each service: signals stored until everything was current (stored, projected,
/// decided, archived), the CPU every process and PostgreSQL spent meanwhile, and each process's peak resident set.
/// </summary>
public sealed record InstancesResult(
    int Instances,
    int Jobs,
    long Signals,
    TimeSpan Ingested,
    TimeSpan Current,
    long Decisions,
    long Lost,
    CpuUse Cpu,
    IReadOnlyDictionary<string, long> PeakRssBytes)
{
    /// <summary>Signals a second, from the first produced until every fold was current.</summary>
    public double PerSecond => Signals / Current.TotalSeconds;

    public long MaxPeakRssBytes => PeakRssBytes.Values.DefaultIfEmpty().Max();
}
