namespace Streaming.EventStore;

/// <summary>A place in the log's commit order: the appending transaction's id, then the event's global position.</summary>
public readonly record struct TailPosition(ulong TxId, long GlobalPosition) : IComparable<TailPosition>
{
    public static TailPosition Start => default;

    public int CompareTo(TailPosition other)
    {
        var byTransaction = TxId.CompareTo(other.TxId);
        return byTransaction != 0 ? byTransaction : GlobalPosition.CompareTo(other.GlobalPosition);
    }

    public override string ToString() => $"{TxId}/{GlobalPosition}";
}
