namespace Streaming.EventStore;

/// <summary>A checkpoint was not where its reader expected it in <see cref="Partition"/>: another instance of the reader moved it.</summary>
public sealed class CheckpointConflictException(string name, TailPosition? expected, TailPosition? actual, int partition = 0, IReadOnlyList<int>? partitions = null)
    : Exception($"Checkpoint '{name}' of partition {partition} is at {actual?.ToString() ?? "(none)"}, not the expected {expected?.ToString() ?? "(none)"}")
{
    public string Name { get; } = name;

    /// <summary>The log partition whose position was elsewhere: the one a fenced instance drops.</summary>
    public int Partition { get; } = partition;

    /// <summary>Every partition found elsewhere in the same save (<see cref="Partition"/> among them).</summary>
    public IReadOnlyList<int> Partitions { get; } = partitions ?? [partition];

    public TailPosition? Expected { get; } = expected;

    public TailPosition? Actual { get; } = actual;
}
