using System.Collections.Immutable;
using Streaming.Contracts.PhaseChanges;

namespace Streaming.Promoter.Publishing;

/// <summary>
/// Hands the phase changes the decisions fold has just committed to every relay of the process, so a relay publishes
/// them without waiting to read them back from the store. Each relay has its own bounded queue; what does not fit is
/// dropped, and the relay, seeing the gap in the sequence, takes those from the log instead.
/// </summary>
public sealed class PhaseChangeFeed
{
    /// <summary>Phase changes one relay may have waiting.</summary>
    public const int Capacity = 10_000;

    ImmutableArray<PhaseChangeSubscription> _subscriptions = [];

    /// <summary>A relay's own queue of what is offered from now on.</summary>
    public PhaseChangeSubscription Subscribe()
    {
        var subscription = new PhaseChangeSubscription(Capacity);
        ImmutableInterlocked.Update(ref _subscriptions, s => s.Add(subscription));
        return subscription;
    }

    /// <summary>Offers committed phase changes, in commit order, to every relay; called by one writer, after each commit.</summary>
    public void Offer(IReadOnlyList<PhaseChangedMessage> changes)
    {
        if (changes.Count == 0)
        {
            return;
        }
        foreach (var subscription in _subscriptions)
        {
            subscription.Offer(changes);
        }
    }
}
