using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace Streaming.Lifecycle;

/// <summary>Operations on a job's window of samples, which is kept sorted by event time.</summary>
static class SampleWindow
{
    /// <summary>
    /// The window with <paramref name="sample"/> inserted in event-time order (after samples emitted at the same time)
    /// and every sample emitted at or before <paramref name="keepAfter"/> dropped, in one allocation.
    /// </summary>
    public static ImmutableArray<WindowSample> Add(ImmutableArray<WindowSample> window, WindowSample sample, DateTimeOffset keepAfter)
    {
        var keepFrom = FirstAfter(window, keepAfter);
        if (sample.EmittedAt <= keepAfter)
        {
            return keepFrom == 0 ? window : window[keepFrom..];
        }
        var insertAt = window.Length;
        while (insertAt > keepFrom && window[insertAt - 1].EmittedAt > sample.EmittedAt)
        {
            insertAt--;
        }
        var items = new WindowSample[window.Length - keepFrom + 1];
        window.CopyTo(keepFrom, items, 0, insertAt - keepFrom);
        items[insertAt - keepFrom] = sample;
        window.CopyTo(insertAt, items, insertAt - keepFrom + 1, window.Length - insertAt);
        return ImmutableCollectionsMarshal.AsImmutableArray(items);
    }

    /// <summary>The index of the first sample emitted after <paramref name="since"/>.</summary>
    public static int FirstAfter(ImmutableArray<WindowSample> window, DateTimeOffset since)
    {
        var index = 0;
        while (index < window.Length && window[index].EmittedAt <= since)
        {
            index++;
        }
        return index;
    }

    /// <summary>How many samples were emitted after <paramref name="since"/>.</summary>
    public static int CountAfter(ImmutableArray<WindowSample> window, DateTimeOffset since) =>
        window.Length - FirstAfter(window, since);

    /// <summary>The lowest and highest stream version among the samples emitted after <paramref name="since"/>.</summary>
    public static (long First, long Last) VersionsAfter(ImmutableArray<WindowSample> window, DateTimeOffset since)
    {
        long first = long.MaxValue, last = long.MinValue;
        for (var i = FirstAfter(window, since); i < window.Length; i++)
        {
            first = Math.Min(first, window[i].Version);
            last = Math.Max(last, window[i].Version);
        }
        return first <= last ? (first, last) : (0, 0);
    }
}
