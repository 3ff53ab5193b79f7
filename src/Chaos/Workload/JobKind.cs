namespace Streaming.Chaos.Workload;

/// <summary>How a job of the fault suite's workload behaves, so that its run produces promotions, demotions and jobs that never move.</summary>
public enum JobKind
{
    /// <summary>Clean metrics: promoted through the phases it reports.</summary>
    Healthy,

    /// <summary>Checksums never match: never leaves shadow.</summary>
    Broken,

    /// <summary>Errors once it reports reverse_shadow: promoted, then demoted.</summary>
    Regressing,

    /// <summary>A latency spike every few minutes: promoted later, or not at all.</summary>
    Noisy,
}
