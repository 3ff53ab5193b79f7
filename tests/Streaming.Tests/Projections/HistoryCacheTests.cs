using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.Projections.History;
using Streaming.Projections.Tail;
using Xunit;

namespace Streaming.Tests.Projections;

public sealed class HistoryCacheTests : IDisposable
{
    static readonly DateTimeOffset Start = new(2026, 3, 2, 9, 0, 0, TimeSpan.FromHours(1));
    static readonly Guid Origin = Guid.NewGuid();

    readonly string _path = Path.Combine(Path.GetTempPath(), $"history-{Guid.NewGuid():N}.history");

    public void Dispose() => File.Delete(_path);

    static LogEvent Signal(long position, string job, long version, double errorRate)
    {
        var signal = new SignalRecorded(job, version, Start.AddMinutes(position), "shadow",
            MetricValues.From(new Dictionary<string, double> { ["error_rate"] = errorRate, ["lag"] = position }),
            new Dictionary<string, string> { ["team"] = "orders" }, null);
        return new LogEvent(new RecordedEvent(position, position, job, version, Guid.NewGuid(), SignalRecorded.EventType, "{}", "{}", version,
            signal.EmittedAt, signal.EmittedAt), signal);
    }

    static LogEvent Other(long position) =>
        EventDecoder.Decode(new RecordedEvent(position, position, "policy:fleet", 1, Guid.NewGuid(), PolicyPublished.EventType, """{"name":"fleet"}""", "{}", null,
            Start, Start));

    List<LogEvent> Replay(Guid origin, out TailPosition? reached)
    {
        var cache = new HistoryCache(_path);
        var replayed = new List<LogEvent>();
        reached = cache.Replay(origin, replayed.AddRange);
        cache.Close();
        return replayed;
    }

    void Write(params LogEvent[][] segments)
    {
        var cache = new HistoryCache(_path);
        cache.Replay(Origin, _ => { });
        foreach (var segment in segments)
        {
            cache.AppendSegment(segment, segment[^1].Event.Position);
        }
        cache.Close();
    }

    [Fact]
    public void Replays_what_was_appended_in_order_with_the_signals_already_read()
    {
        Write([Other(1), Signal(2, "job-1", 1, 0.5)], [Signal(3, "job-2", 1, 0.25), Signal(4, "job-1", 2, 0)]);

        var replayed = Replay(Origin, out var reached);

        Assert.Equal(new TailPosition(4, 4), reached);
        Assert.Equal([1L, 2, 3, 4], replayed.Select(r => r.Event.GlobalPosition));
        Assert.Null(replayed[0].Signal);
        Assert.Equal("""{"name":"fleet"}""", replayed[0].Event.Data);
        var signal = replayed[2].Signal!;
        Assert.Equal(("job-2", 1L, Start.AddMinutes(3), "shadow", "orders"), (signal.JobId, signal.Seq, signal.EmittedAt, signal.Phase, signal.Labels["team"]));
        Assert.Equal([0.25, 3.0], signal.Metrics.Values);
        Assert.Equal(("job-2", 1L, SignalRecorded.EventType), (replayed[2].Event.StreamId, replayed[2].Event.Version, replayed[2].Event.Type));
    }

    [Fact]
    public void A_segment_cut_short_is_dropped_and_appending_continues_after_the_last_whole_one()
    {
        Write([Signal(1, "job-1", 1, 0)], [Signal(2, "job-1", 2, 0)]);
        var length = new FileInfo(_path).Length;
        using (var file = new FileStream(_path, FileMode.Open))
        {
            file.SetLength(length - 3);
        }

        var replayed = Replay(Origin, out var reached);

        Assert.Equal(new TailPosition(1, 1), reached);
        Assert.Single(replayed);
    }

    [Fact]
    public void Names_defined_by_a_segment_cut_short_are_defined_again_when_used_after_it()
    {
        Write([Signal(1, "job-1", 1, 0)], [Signal(2, "job-2", 1, 0)]);
        var length = new FileInfo(_path).Length;
        using (var file = new FileStream(_path, FileMode.Open))
        {
            file.SetLength(length - 3);
        }

        // The cut segment was the one that named job-2; the cache is trimmed to the first segment and written on
        Write([Signal(2, "job-2", 1, 0.5)]);
        var replayed = Replay(Origin, out var reached);

        Assert.Equal(new TailPosition(2, 2), reached);
        Assert.Equal(["job-1", "job-2"], replayed.Select(r => r.Signal!.JobId));
        Assert.Equal(0.5, replayed[1].Signal!.Metrics["error_rate"]);
    }

    [Fact]
    public void A_copy_of_another_log_is_not_used()
    {
        Write([Signal(1, "job-1", 1, 0)]);

        var replayed = Replay(Guid.NewGuid(), out var reached);

        Assert.Null(reached);
        Assert.Empty(replayed);
    }
}
