namespace Streaming.Bench.Marten.Projections;

/// <summary>The idiomatic projection's document: one per job, the same fields as the raw-SQL projection's row.</summary>
public sealed class JobStateView
{
    public string Id { get; set; } = "";

    public string Phase { get; set; } = "";

    public DateTimeOffset PhaseSince { get; set; }

    public long LastSeq { get; set; }

    public DateTimeOffset LastEventTime { get; set; }

    public IReadOnlyDictionary<string, double> Metrics { get; set; } = new Dictionary<string, double>();

    public IReadOnlyDictionary<string, string> Labels { get; set; } = new Dictionary<string, string>();

    public long Signals { get; set; }

    public int Version { get; set; }
}
