namespace Streaming.EventStore;

/// <summary>A place in the log's commit order: the appending transaction's commit number, then the event's global position.</summary>
public readonly record struct TailPosition(long Commit, long GlobalPosition) : IComparable<TailPosition>
{
    public static TailPosition Start => default;

    public int CompareTo(TailPosition other)
    {
        var byCommit = Commit.CompareTo(other.Commit);
        return byCommit != 0 ? byCommit : GlobalPosition.CompareTo(other.GlobalPosition);
    }

    public override string ToString() => $"{Commit}/{GlobalPosition}";
}
