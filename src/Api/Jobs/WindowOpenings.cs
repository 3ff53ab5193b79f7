using Streaming.Lifecycle;

namespace Streaming.Api.Jobs;

/// <summary>When a policy's promotion windows next open after a moment of event time, in each window's own time zone.</summary>
public static class WindowOpenings
{
    /// <summary>The first opening after <paramref name="after"/> and the window it opens, or null without windows.</summary>
    public static (DateTimeOffset At, PromotionWindow Window)? Next(IReadOnlyList<PromotionWindow> windows, DateTimeOffset after)
    {
        (DateTimeOffset At, PromotionWindow Window)? first = null;
        foreach (var window in windows)
        {
            var today = TimeZoneInfo.ConvertTime(after, window.Zone).DateTime.Date;
            for (var day = 0; day <= 7; day++)
            {
                var date = today.AddDays(day);
                if (!window.Days.Contains(date.DayOfWeek))
                {
                    continue;
                }
                var start = date + window.From;
                // A start that daylight saving time skips opens when the clocks have moved on.
                while (window.Zone.IsInvalidTime(start))
                {
                    start = start.AddMinutes(15);
                }
                var at = new DateTimeOffset(start, window.Zone.GetUtcOffset(start));
                if (at <= after)
                {
                    continue;
                }
                if (first is null || at < first.Value.At)
                {
                    first = (at, window);
                }
                break;
            }
        }
        return first;
    }
}
