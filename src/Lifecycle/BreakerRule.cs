namespace Streaming.Lifecycle;

/// <summary>
/// When promotions into a gate's phase pause: the demotions out of it within <see cref="Window"/> exceed
/// <see cref="MaxDemotionShare"/> of the jobs in it, counted once the phase holds at least <see cref="MinJobs"/>.
/// </summary>
public sealed record BreakerRule(double MaxDemotionShare, TimeSpan Window, int MinJobs)
{
    /// <summary>Whether <paramref name="demotions"/> within the window are too many for a phase that holds <paramref name="jobs"/> now.</summary>
    public bool Exceeded(int jobs, int demotions)
    {
        // Demoted jobs have left the phase: the share is of the jobs it held before them.
        var held = jobs + demotions;
        return held >= MinJobs && demotions > MaxDemotionShare * held;
    }
}
