using Streaming.Contracts.PhaseChanges;

namespace Streaming.Promoter.Decisions;

/// <summary>Decisions recorded since the process started.</summary>
public sealed class DecisionCounters
{
    long _promotions;
    long _demotions;
    int _silent;

    public long Promotions => Interlocked.Read(ref _promotions);

    public long Demotions => Interlocked.Read(ref _demotions);

    /// <summary>Jobs silent as of the last batch the decisions fold folded.</summary>
    public int Silent => Volatile.Read(ref _silent);

    internal void SetSilent(int silent) => Volatile.Write(ref _silent, silent);

    internal void Add(string direction)
    {
        if (direction == PhaseDirection.Promote)
        {
            Interlocked.Increment(ref _promotions);
        }
        else if (direction == PhaseDirection.Demote)
        {
            Interlocked.Increment(ref _demotions);
        }
    }
}
