namespace Streaming.Bench;

/// <summary>One timed run: how many items in how long.</summary>
public sealed record Measurement(string Name, long Items, TimeSpan Elapsed)
{
    public double PerSecond => Items / Elapsed.TotalSeconds;
}
