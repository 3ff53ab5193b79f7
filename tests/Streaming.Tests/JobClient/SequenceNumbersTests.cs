using Streaming.JobClient.Signals;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.JobClient;

public sealed class SequenceNumbersTests : IDisposable
{
    static readonly DateTimeOffset T0 = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    readonly string _state = Directory.CreateTempSubdirectory("streaming-seq-").FullName;

    [Fact]
    public void Numbers_increase_even_when_taken_faster_than_the_clock_moves()
    {
        var seq = new SequenceNumbers("job-1", null, new ManualClock(T0));
        var numbers = Enumerable.Range(0, 1000).Select(_ => seq.Next()).ToList();
        Assert.Equal(T0.ToUnixTimeMilliseconds() * 1000, numbers[0]);
        Assert.Equal(numbers.Order().Distinct(), numbers);
    }

    [Fact]
    public void A_restarted_job_continues_above_its_last_number_even_if_its_clock_stepped_back()
    {
        var clock = new ManualClock(T0);
        var before = new SequenceNumbers("job-1", _state, clock);
        var last = Enumerable.Range(0, 10).Select(_ => before.Next()).Last();

        clock.Now = T0.AddHours(-1);
        var after = new SequenceNumbers("job-1", _state, clock);
        Assert.True(after.Next() > last);
        Assert.Equal(T0.AddHours(-1).ToUnixTimeMilliseconds() * 1000, new SequenceNumbers("job-2", _state, clock).Next());
    }

    public void Dispose() => Directory.Delete(_state, recursive: true);
}
