namespace Streaming.Embedded.Fleet;

/// <summary>The simulated fleet (configuration section <c>Fleet</c>).</summary>
public sealed class FleetOptions
{
    public const string Section = "Fleet";

    public bool Enabled { get; set; } = true;

    public int Jobs { get; set; } = 300;

    /// <summary>Real time per simulated minute; every job emits one signal per simulated minute.</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Simulated minutes a job takes to switch phase after it is told to.</summary>
    public int AcknowledgeAfterMinutes { get; set; } = 2;

    public int Seed { get; set; } = 17;

    /// <summary>
    /// Most signals a partition may hold that Ingest has not stored: the embedded broker keeps 5 MB a partition (about
    /// 12,000 of these signals) and drops the oldest beyond that.
    /// </summary>
    public int MaxUnstoredPerPartition { get; set; } = 8_000;
}
