using System.Globalization;
using System.Text.RegularExpressions;

namespace Streaming.Lifecycle;

/// <summary>Durations as policy documents write them: <c>90s</c>, <c>15m</c>, <c>1h30m</c>, <c>2d</c>, <c>250ms</c>.</summary>
public static partial class PolicyDurations
{
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrEmpty(text) || !Whole().IsMatch(text))
        {
            return false;
        }
        foreach (Match part in Part().Matches(text))
        {
            var amount = double.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture);
            duration += part.Groups[2].Value switch
            {
                "d" => TimeSpan.FromDays(amount),
                "h" => TimeSpan.FromHours(amount),
                "m" => TimeSpan.FromMinutes(amount),
                "s" => TimeSpan.FromSeconds(amount),
                _ => TimeSpan.FromMilliseconds(amount),
            };
        }
        return true;
    }

    [GeneratedRegex(@"^(\d+(\.\d+)?(ms|d|h|m|s))+$")]
    private static partial Regex Whole();

    [GeneratedRegex(@"(\d+(?:\.\d+)?)(ms|d|h|m|s)")]
    private static partial Regex Part();
}
