namespace Streaming.Lifecycle;

/// <summary>
/// When promotions into a gate's phase pause: the demotions out of it within <see cref="Window"/> exceed
/// <see cref="MaxDemotionShare"/> of the jobs in it, counted once the phase holds at least <see cref="MinJobs"/>.
/// </summary>
public sealed record BreakerRule(double MaxDemotionShare, TimeSpan Window, int MinJobs);
