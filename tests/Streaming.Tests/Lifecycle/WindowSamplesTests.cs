using Streaming.Lifecycle;

namespace Streaming.Tests.Lifecycle;

public sealed class WindowSamplesTests
{
    static readonly DateTimeOffset T0 = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
    static readonly IReadOnlyDictionary<string, double> NoMetrics = new Dictionary<string, double>();

    static WindowSample At(int minute) => new(minute, T0.AddMinutes(minute), NoMetrics);

    static WindowSamples Minutes(int from, int to, int keepMinutes)
    {
        var window = WindowSamples.Empty;
        for (var minute = from; minute <= to; minute++)
        {
            window = window.Add(At(minute), T0.AddMinutes(minute - keepMinutes));
        }
        return window;
    }

    static long[] Versions(WindowSamples window) => [.. window.Select(s => s.Version)];

    [Fact]
    public void Samples_in_order_are_kept_for_the_window_and_expired_ones_dropped()
    {
        var window = Minutes(0, 100, keepMinutes: 10);

        Assert.Equal(Enumerable.Range(91, 10).Select(m => (long)m), Versions(window));
    }

    [Fact]
    public void A_window_keeps_at_most_the_newest_most_samples_however_many_arrive_within_it()
    {
        var window = WindowSamples.Empty;
        for (var second = 0; second < WindowSamples.MostSamples * 3; second++)
        {
            window = window.Add(new WindowSample(second, T0.AddSeconds(second), NoMetrics), T0.AddDays(-1));
        }

        Assert.Equal(WindowSamples.MostSamples, window.Length);
        Assert.Equal(WindowSamples.MostSamples * 3 - 1, window[^1].Version);
        Assert.Equal(WindowSamples.MostSamples * 2, window[0].Version);
    }

    [Fact]
    public void A_window_never_sees_samples_added_to_a_window_made_from_it()
    {
        var shared = Minutes(0, 5, keepMinutes: 60);

        var left = shared.Add(At(6), T0.AddMinutes(-60));
        var right = shared.Add(At(7), T0.AddMinutes(-60));
        var further = left.Add(At(8), T0.AddMinutes(-60));

        Assert.Equal([0L, 1, 2, 3, 4, 5], Versions(shared));
        Assert.Equal([0L, 1, 2, 3, 4, 5, 6], Versions(left));
        Assert.Equal([0L, 1, 2, 3, 4, 5, 7], Versions(right));
        Assert.Equal([0L, 1, 2, 3, 4, 5, 6, 8], Versions(further));
    }

    [Fact]
    public void A_late_sample_is_inserted_in_event_time_order_after_samples_of_the_same_time()
    {
        var window = Minutes(0, 5, keepMinutes: 60);
        var sameTime = new WindowSample(99, T0.AddMinutes(3), NoMetrics);

        var late = window.Add(sameTime, T0.AddMinutes(-60));

        Assert.Equal([0L, 1, 2, 3, 99, 4, 5], Versions(late));
        Assert.Equal([0L, 1, 2, 3, 4, 5], Versions(window));
    }

    [Fact]
    public void A_sample_older_than_the_window_only_drops_what_expired()
    {
        var window = Minutes(0, 5, keepMinutes: 60);

        var after = window.Add(At(1), T0.AddMinutes(2));

        Assert.Equal([3L, 4, 5], Versions(after));
        Assert.Equal(0, window.Add(At(1), T0.AddMinutes(9)).Length);
    }

    [Fact]
    public void Windows_are_equal_when_they_hold_the_same_slots()
    {
        var window = Minutes(0, 5, keepMinutes: 60);

        Assert.NotEqual(window, window.Add(At(6), T0.AddMinutes(-60)));
        Assert.Equal(WindowSamples.Empty, WindowSamples.Of([]));
        Assert.Equal(WindowSamples.Empty, window.Add(At(1), T0.AddMinutes(9)));
    }
}
