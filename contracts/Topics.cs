namespace Streaming.Contracts;

/// <summary>The default topic names of the wire contract; every service lets configuration change them.</summary>
public static class Topics
{
    public const string Signals = "job-signals";
    public const string SignalsDeadLetter = "job-signals-dlq";
    public const string PhaseChanges = "job-phase-changes";
}
