namespace Streaming.Projector.Rebuilding;

/// <summary>
/// A finished rebuild: the generation it activated and how many events this run replayed (how many of them from the
/// history archive), how fast.
/// </summary>
public sealed record RebuildResult(int Generation, bool Resumed, long Events, long FromArchive, TimeSpan Elapsed)
{
    public double PerSecond => Elapsed.TotalSeconds > 0 ? Events / Elapsed.TotalSeconds : 0;
}
