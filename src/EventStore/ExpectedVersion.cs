namespace Streaming.EventStore;

/// <summary>Special values for the expected version of an append; any value ≥ 1 means "the stream is at exactly this version".</summary>
public static class ExpectedVersion
{
    /// <summary>No check: append at whatever version the stream has.</summary>
    public const long Any = -2;

    /// <summary>The stream must not exist yet (stream versions start at 1).</summary>
    public const long NoStream = 0;
}
