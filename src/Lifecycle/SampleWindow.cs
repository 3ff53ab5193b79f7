namespace Streaming.Lifecycle;

/// <summary>Lookups in a job's window of samples, which is kept sorted by event time.</summary>
static class SampleWindow
{
    /// <summary>The index of the first sample emitted after <paramref name="since"/>.</summary>
    public static int FirstAfter(ReadOnlySpan<WindowSample> window, DateTimeOffset since)
    {
        var index = 0;
        while (index < window.Length && window[index].EmittedAt <= since)
        {
            index++;
        }
        return index;
    }

    /// <summary>How many samples were emitted after <paramref name="since"/>.</summary>
    public static int CountAfter(ReadOnlySpan<WindowSample> window, DateTimeOffset since) =>
        window.Length - FirstAfter(window, since);

    /// <summary>The lowest and highest stream version among the samples emitted after <paramref name="since"/>.</summary>
    public static (long First, long Last) VersionsAfter(ReadOnlySpan<WindowSample> window, DateTimeOffset since)
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
