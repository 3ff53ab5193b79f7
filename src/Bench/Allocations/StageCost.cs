namespace Streaming.Bench.Allocations;

/// <summary>
/// What one stage of the per-signal path cost over a run: bytes allocated on the calling thread (exact, so a change's
/// effect is a figure), process CPU and wall time (the collector's work included, so they vary between runs).
/// </summary>
sealed class StageCost(string name)
{
    public string Name => name;

    public long Items { get; private set; }

    public long Bytes { get; private set; }

    public TimeSpan Cpu { get; private set; }

    public TimeSpan Wall { get; private set; }

    public double BytesPerItem => Items == 0 ? 0 : (double)Bytes / Items;

    public double CpuMicrosecondsPerItem => Items == 0 ? 0 : Cpu.TotalMicroseconds / Items;

    /// <summary>Runs <paramref name="stage"/> over <paramref name="items"/> items, counted only when <paramref name="counted"/>.</summary>
    public void Measure(int items, bool counted, Action stage)
    {
        var bytes = GC.GetAllocatedBytesForCurrentThread();
        var cpu = Environment.CpuUsage.TotalTime;
        var wall = System.Diagnostics.Stopwatch.GetTimestamp();
        stage();
        if (counted)
        {
            Wall += System.Diagnostics.Stopwatch.GetElapsedTime(wall);
            Cpu += Environment.CpuUsage.TotalTime - cpu;
            Bytes += GC.GetAllocatedBytesForCurrentThread() - bytes;
            Items += items;
        }
    }
}
