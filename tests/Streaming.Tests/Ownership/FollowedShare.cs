using System.Text.RegularExpressions;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Ownership;

/// <summary>The partitions an owning process says its tail follows now: the last "the tail follows partitions" line of its log.</summary>
public static partial class FollowedShare
{
    public static IReadOnlySet<int> Of(ServiceProcess owner) => In(owner.Log);

    /// <summary>The same, read from a log's text.</summary>
    public static IReadOnlySet<int> In(string log)
    {
        var last = Line().Matches(log).LastOrDefault();
        return last is null ? new SortedSet<int>() : new SortedSet<int>(last.Groups[1].Value.Split(',').Select(int.Parse));
    }

    [GeneratedRegex(@"the tail follows partitions ([0-9,]+)")]
    private static partial Regex Line();
}
