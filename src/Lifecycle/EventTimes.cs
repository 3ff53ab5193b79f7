namespace Streaming.Lifecycle;

/// <summary>
/// Event-time arithmetic that stays within <see cref="DateTimeOffset"/>'s range: a stored event can carry any time, and
/// a window reaching back before year 1 simply starts there. Results are in UTC, which only ever serve comparisons.
/// </summary>
internal static class EventTimes
{
    /// <summary><paramref name="at"/> minus <paramref name="span"/>, or <see cref="DateTimeOffset.MinValue"/> when that is before it.</summary>
    public static DateTimeOffset Before(DateTimeOffset at, TimeSpan span)
    {
        var ticks = at.UtcTicks - span.Ticks;
        return ticks <= 0 ? DateTimeOffset.MinValue
            : ticks >= DateTimeOffset.MaxValue.UtcTicks ? DateTimeOffset.MaxValue
            : new DateTimeOffset(ticks, TimeSpan.Zero);
    }

    /// <summary><paramref name="at"/> plus <paramref name="span"/>, or <see cref="DateTimeOffset.MaxValue"/> when that is past it.</summary>
    public static DateTimeOffset After(DateTimeOffset at, TimeSpan span) => Before(at, -span);
}
