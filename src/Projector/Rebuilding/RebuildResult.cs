namespace Streaming.Projector.Rebuilding;

/// <summary>A finished rebuild: the generation it activated and how many events this run replayed, how fast.</summary>
public sealed record RebuildResult(int Generation, bool Resumed, long Events, TimeSpan Elapsed)
{
    public double PerSecond => Elapsed.TotalSeconds > 0 ? Events / Elapsed.TotalSeconds : 0;
}
