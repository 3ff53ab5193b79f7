namespace Streaming.Lifecycle;

/// <summary>
/// Why a promotion the policy wants waits in its phase's queue, as it stood when the job joined the queue: the phase's
/// breaker is open, or its wave is full (<see cref="Ahead"/> jobs come before it).
/// </summary>
public sealed record PromotionWait(bool BreakerOpen, int Ahead, int InFlight, int? MaxInFlight, int PromotedLastHour, int? MaxPerHour)
{
    public string Describe(string phase)
    {
        if (BreakerOpen)
        {
            return $"promotions into {phase} are paused: its circuit breaker is open";
        }
        var limits = new List<string>(2);
        if (MaxInFlight is { } maxInFlight)
        {
            limits.Add($"{InFlight} of {maxInFlight} jobs promoted into it have not soaked yet");
        }
        if (MaxPerHour is { } maxPerHour)
        {
            limits.Add($"{PromotedLastHour} of {maxPerHour} promotions in the last hour");
        }
        return $"waiting for a slot in the {phase} wave ({string.Join(", ", limits)}); {Ahead} jobs ahead in the queue";
    }
}
