namespace Streaming.Projector.Rebuilding;

/// <summary>How far a rebuild has come in this run.</summary>
public sealed record RebuildProgress(int Generation, long Done, long Total, TimeSpan Elapsed)
{
    public double PerSecond => Elapsed.TotalSeconds > 0 ? Done / Elapsed.TotalSeconds : 0;
}
