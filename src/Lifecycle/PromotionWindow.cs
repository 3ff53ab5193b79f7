namespace Streaming.Lifecycle;

/// <summary>
/// When promotions may happen, in event time: on <see cref="Days"/>, from <see cref="From"/> up to (not including)
/// <see cref="To"/>, both the time of day in <see cref="Zone"/> (daylight saving time included).
/// </summary>
public sealed record PromotionWindow(IReadOnlySet<DayOfWeek> Days, TimeSpan From, TimeSpan To, TimeZoneInfo Zone)
{
    public bool Contains(DateTimeOffset at)
    {
        var local = TimeZoneInfo.ConvertTime(at, Zone);
        return Days.Contains(local.DayOfWeek) && local.TimeOfDay >= From && local.TimeOfDay < To;
    }

    public string Describe() =>
        $"{PromotionWindowDays.Describe(Days)} {From:hh\\:mm}-{(To == TimeSpan.FromDays(1) ? "24:00" : To.ToString(@"hh\:mm"))} {Zone.Id}";
}
