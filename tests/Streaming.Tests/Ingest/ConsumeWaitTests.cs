using Streaming.Ingest.Consuming;

namespace Streaming.Tests.Ingest;

/// <summary>
/// The wait a tiny batch gives Consume to fill: Consume passes whole milliseconds, so a wait 1 to 2 ms below zero would
/// reach librdkafka as -1, no time limit, and the batch in hand would wait for a next message that may never come.
/// </summary>
public sealed class ConsumeWaitTests
{
    static readonly DateTime Until = new(2026, 12, 7, 22, 35, 35, DateTimeKind.Utc);

    [Theory]
    [InlineData(0)]
    [InlineData(0.4)]
    [InlineData(1.5)]
    [InlineData(1_000)]
    public void A_wait_over_by_the_time_the_clock_is_read_is_zero(double overByMs) =>
        Assert.Equal(TimeSpan.Zero, SignalConsumer.Remaining(Until, Until.AddMilliseconds(overByMs)));

    [Fact]
    public void A_wait_not_over_is_what_is_left_of_it() =>
        Assert.Equal(TimeSpan.FromMilliseconds(3.5), SignalConsumer.Remaining(Until, Until.AddMilliseconds(-3.5)));
}
