namespace Streaming.Lifecycle;

/// <summary>
/// A policy's rules for when it acts besides its criteria: <see cref="Silence"/> (silent jobs), <see cref="Windows"/>
/// (promotions only within them, in event time; none: any time), whether demotions also stop while an operator's pause
/// covers a gate (<see cref="PauseDemotions"/>) and outside the windows (<see cref="WindowDemotions"/> false).
/// </summary>
public sealed record GateControls(SilenceRule? Silence, IReadOnlyList<PromotionWindow> Windows, bool PauseDemotions, bool WindowDemotions)
{
    public static readonly GateControls None = new(null, [], false, true);

    /// <summary>Whether a promotion may happen at <paramref name="at"/> as far as the windows go.</summary>
    public bool InWindow(DateTimeOffset at)
    {
        if (Windows.Count == 0)
        {
            return true;
        }
        foreach (var window in Windows)
        {
            if (window.Contains(at))
            {
                return true;
            }
        }
        return false;
    }
}
