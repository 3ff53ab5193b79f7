namespace Streaming.Lifecycle;

/// <summary>A job waiting for a wave's slot: its priority, since when it waits, and when it was last found eligible.</summary>
public sealed record QueuedJob(string JobId, int Priority, DateTimeOffset WaitingSince, DateTimeOffset LastEligibleAt)
{
    /// <summary>Higher priority first, then the longest waiting, then job id.</summary>
    public static IComparer<QueuedJob> Order { get; } = Comparer<QueuedJob>.Create((a, b) =>
    {
        var byPriority = b.Priority.CompareTo(a.Priority);
        if (byPriority != 0)
        {
            return byPriority;
        }
        var byWait = a.WaitingSince.CompareTo(b.WaitingSince);
        return byWait != 0 ? byWait : string.CompareOrdinal(a.JobId, b.JobId);
    });
}
