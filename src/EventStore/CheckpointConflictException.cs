namespace Streaming.EventStore;

/// <summary>A checkpoint was not where its reader expected it: another instance of the reader moved it.</summary>
public sealed class CheckpointConflictException(string name, TailPosition? expected, TailPosition? actual)
    : Exception($"Checkpoint '{name}' is at {actual?.ToString() ?? "(none)"}, not the expected {expected?.ToString() ?? "(none)"}")
{
    public string Name { get; } = name;

    public TailPosition? Expected { get; } = expected;

    public TailPosition? Actual { get; } = actual;
}
