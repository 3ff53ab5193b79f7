using System.Globalization;
using System.Text.RegularExpressions;

namespace Streaming.Lifecycle;

/// <summary>
/// Durations as policy documents write them: <c>90s</c>, <c>15m</c>, <c>1h30m</c>, <c>2d</c>, <c>250ms</c>; at most
/// <see cref="Longest"/>, so that adding one to any event time stays a valid time.
/// </summary>
public static partial class PolicyDurations
{
    public static readonly TimeSpan Longest = TimeSpan.FromDays(3650);

    public const string Rule = "for example 90s, 15m, 1h30m, 2d; at most 3650d";

    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrEmpty(text) || text.Length > 64 || !Whole().IsMatch(text))
        {
            return false;
        }
        var milliseconds = 0.0;
        foreach (Match part in Part().Matches(text))
        {
            var amount = double.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture);
            milliseconds += amount * part.Groups[2].Value switch
            {
                "d" => 86_400_000.0,
                "h" => 3_600_000.0,
                "m" => 60_000.0,
                "s" => 1_000.0,
                _ => 1.0,
            };
        }
        if (!(milliseconds <= Longest.TotalMilliseconds))
        {
            return false;
        }
        duration = TimeSpan.FromMilliseconds(milliseconds);
        return true;
    }

    [GeneratedRegex(@"^(\d+(\.\d+)?(ms|d|h|m|s))+$")]
    private static partial Regex Whole();

    [GeneratedRegex(@"(\d+(?:\.\d+)?)(ms|d|h|m|s)")]
    private static partial Regex Part();
}
