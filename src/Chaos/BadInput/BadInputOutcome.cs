namespace Streaming.Chaos.BadInput;

/// <summary>What became of one bad message and the good one after it: dead-lettered with <see cref="Reason"/> (null: not), and whether the neighbour was stored.</summary>
public sealed record BadInputOutcome(string Kind, int Partition, long Offset, string? Reason, bool StoredAsSignal, bool NeighbourStored)
{
    public bool Passed => Reason is { Length: > 0 } && !StoredAsSignal && NeighbourStored;

    public string Verdict => Passed
        ? $"dead-lettered: {Reason}"
        : string.Join("; ", new[]
        {
            Reason is null ? StoredAsSignal ? "stored as a signal" : "neither stored nor dead-lettered" : null,
            Reason is not null && StoredAsSignal ? "dead-lettered and stored" : null,
            NeighbourStored ? null : "the good signal after it was not stored",
        }.OfType<string>());
}
