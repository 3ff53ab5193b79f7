namespace Streaming.Lifecycle;

/// <summary>Days of the week as policies write them: <c>mon</c> … <c>sun</c>, and ranges such as <c>mon-fri</c> or <c>fri-mon</c>.</summary>
public static class PromotionWindowDays
{
    static readonly string[] Names = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

    public const string Rule = "a day (mon, tue, wed, thu, fri, sat, sun) or a range such as mon-fri";

    /// <summary>Adds the day or range <paramref name="text"/> names to <paramref name="days"/>; false if it names none.</summary>
    public static bool TryAdd(string text, ISet<DayOfWeek> days)
    {
        var parts = text.Split('-');
        var first = Array.IndexOf(Names, parts[0]);
        if (parts.Length > 2 || first < 0)
        {
            return false;
        }
        var last = parts.Length == 2 ? Array.IndexOf(Names, parts[1]) : first;
        if (last < 0)
        {
            return false;
        }
        for (var day = first; ; day = (day + 1) % 7)
        {
            days.Add((DayOfWeek)day);
            if (day == last)
            {
                return true;
            }
        }
    }

    public static string Describe(IReadOnlySet<DayOfWeek> days) =>
        days.Count == 7 ? "every day" : string.Join(",", Enumerable.Range(1, 7).Select(d => (DayOfWeek)(d % 7)).Where(days.Contains).Select(d => Names[(int)d]));
}
