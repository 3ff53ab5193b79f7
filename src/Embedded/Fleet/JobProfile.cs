namespace Streaming.Embedded.Fleet;

/// <summary>How a simulated job behaves: what its metrics look like in each phase.</summary>
public enum JobProfile
{
    /// <summary>Clean metrics with a little noise: walks through every phase.</summary>
    Healthy,

    /// <summary>Checksums never match: never leaves shadow.</summary>
    Broken,

    /// <summary>Starts failing for a while after reaching reverse shadow: demoted, then promoted again.</summary>
    Regressing,

    /// <summary>Single bad readings now and then: never three in a row, so never demoted for them.</summary>
    Noisy,
}
