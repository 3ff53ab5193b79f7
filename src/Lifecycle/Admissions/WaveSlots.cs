namespace Streaming.Lifecycle.Admissions;

/// <summary>One gate's wave in Owner mode: the requests queued in order, the slots granted and not released, the grants of the last hour.</summary>
public sealed class WaveSlots(string policy, string phase)
{
    public string Policy { get; } = policy;

    public string Phase { get; } = phase;

    public SortedSet<AdmissionEntry> Queue { get; } = new(AdmissionEntry.Order);

    public Dictionary<string, AdmissionEntry> Granted { get; } = new(StringComparer.Ordinal);

    /// <summary>The event times of the grants of the last hour (counted against <see cref="WaveRule.MaxPerHour"/>).</summary>
    public Queue<DateTimeOffset> Grants { get; } = new();

    /// <summary>The place of <paramref name="jobId"/> in the queue: how many jobs come before it.</summary>
    public int Ahead(string jobId)
    {
        var ahead = 0;
        foreach (var entry in Queue)
        {
            if (entry.JobId == jobId)
            {
                return ahead;
            }
            ahead++;
        }
        return ahead;
    }
}
