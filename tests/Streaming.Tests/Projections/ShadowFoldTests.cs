using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.LifecycleEvents;
using Streaming.Projections;
using Streaming.Projections.Tail;
using Streaming.Promoter.Shadows;
using Streaming.Tests.Lifecycle;
using Xunit;

namespace Streaming.Tests.Projections;

/// <summary>How a shadow policy's wishes are judged against the real moves (the fold alone, in memory).</summary>
public sealed class ShadowFoldTests
{
    static readonly DateTimeOffset Start = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
    static readonly IReadOnlyDictionary<string, double> Healthy = JobMetrics.Of(("error_rate", 0));

    long _position;
    long _version;

    [Theory]
    [InlineData("a", "b", 30, 1, 0, 0, 0)]
    [InlineData("b", "a", 30, 0, 1, 1, 0)]
    [InlineData(null, null, 0, 0, 0, 0, 1)]
    public void A_wish_is_judged_by_the_next_real_move(string? realFrom, string? realTo, int realMinute, long agreed, long realOnly, long shadowOnly, long open)
    {
        // Given a shadow that wants to promote a healthy job from a at minute 10
        using var dataSource = NpgsqlDataSource.Create("Host=unused");
        var fold = new ShadowFold(dataSource, Shadows(), new EventStreams(dataSource), NullLogger<ShadowFold>.Instance);
        var job = ShadowJob.Empty("job-1");
        for (var minute = 0; minute <= 20; minute++)
        {
            job = fold.Apply(job, EventDecoder.Decode(Signal(minute)));
        }
        Assert.Equal(("a", "b", Start.AddMinutes(10)), (job.Tracks["fleet"].Would?.From, job.Tracks["fleet"].Would?.To, job.Tracks["fleet"].Would?.DecidedAt));

        // When the real move comes (or none)
        if (realFrom is not null)
        {
            job = fold.Apply(job, EventDecoder.Decode(Change(realFrom, realTo!, realMinute)));
        }

        // Then
        var counts = fold.Agreement["fleet"];
        Assert.Equal((agreed, realOnly, shadowOnly, open), (counts.Agreed, counts.LiveOnly, counts.ShadowOnly, counts.Open));
        Assert.Equal(agreed == 1 ? 20 * 60 : 0, counts.LeadSeconds);
    }

    static ActivePolicies Shadows()
    {
        var shadows = new ActivePolicies(NullLogger.Instance, PolicyPublished.ShadowStreamPrefix);
        shadows.Observe(EventDecoder.Decode(new RecordedEvent(1, 1, PolicyPublished.ShadowStreamFor("fleet"), 1, Guid.NewGuid(), PolicyPublished.EventType,
            ContractsJson.Serialize(new PolicyPublished("fleet", 1, FleetControlTests.Policy(), "sha", "tests", Start)), "{}", null, Start, Start)));
        return shadows;
    }

    RecordedEvent Signal(int minute)
    {
        var signal = new SignalRecorded("job-1", ++_version, Start.AddMinutes(minute), "a", Healthy, new Dictionary<string, string>(), null);
        return new RecordedEvent(++_position, _position, "job-1", _version, Guid.NewGuid(), SignalRecorded.EventType,
            ContractsJson.Serialize(signal), "{}", _version, signal.EmittedAt, signal.EmittedAt);
    }

    RecordedEvent Change(string from, string to, int minute)
    {
        var change = new PhaseChanged(Guid.NewGuid(), "job-1", from, to, PhaseDecision.Promote, "real", Start.AddMinutes(minute), "fleet@1",
            _version, 1, _version, []);
        return new RecordedEvent(++_position, _position, "job-1", ++_version, change.EventId, PhaseChanged.EventType,
            ContractsJson.Serialize(change), "{}", null, change.DecidedAt, change.DecidedAt);
    }
}
