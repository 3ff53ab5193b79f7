namespace Streaming.SampleJob;

/// <summary>How the sample migration behaves.</summary>
public enum MigrationProfile
{
    /// <summary>Clean metrics: promoted through every phase.</summary>
    Healthy,

    /// <summary>Errors for a while after it starts serving reads from the new store: demoted back to shadow, then promoted again.</summary>
    Regressing,
}
