using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.LifecycleEvents;
using Streaming.Projections.Tail;
using Streaming.Projector.JobStates;

namespace Streaming.Tests.Projections;

/// <summary>Which of a job's changes may wait to be written (only what moves its metrics), and that a change folded again changes nothing.</summary>
public sealed class JobStateWaitingChangeTests : IDisposable
{
    static readonly DateTimeOffset Start = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);
    static readonly IReadOnlyDictionary<string, string> Labels = new Dictionary<string, string> { ["team"] = "orders" };

    readonly NpgsqlDataSource _unused = NpgsqlDataSource.Create("Host=localhost;Database=unused");
    readonly JobStateProjection _projection;
    long _position;

    public JobStateWaitingChangeTests()
    {
        var policies = new ActivePolicies(NullLogger.Instance);
        policies.Substitute(DefaultPolicies.CdcMigration);
        _projection = new JobStateProjection(_unused, policies, new KnownIssues(), new JobStateGeneration(1));
    }

    public void Dispose() => _unused.Dispose();

    [Fact]
    public void A_signal_that_moves_only_metrics_may_wait_but_a_new_job_a_label_a_decision_and_an_acknowledgement_may_not()
    {
        // Given a new job's first signal
        var job = "waits-" + Guid.NewGuid().ToString("N");
        var created = _projection.Create(job);
        var first = _projection.Apply(created, Signal(job, 1, 0, "shadow", 0.001, Labels));
        Assert.False(_projection.CanWait(created, first));

        // When it signals again in its phase with other metrics, then that may wait
        var second = _projection.Apply(first, Signal(job, 2, 1, "shadow", 0.002, Labels));
        Assert.NotEqual(first.Lifecycle.LatestMetrics["error_rate"], second.Lifecycle.LatestMetrics["error_rate"]);
        Assert.True(_projection.CanWait(first, second));

        // But a signal with another label may not
        var relabelled = _projection.Apply(second, Signal(job, 3, 2, "shadow", 0.002, new Dictionary<string, string> { ["team"] = "payments" }));
        Assert.False(_projection.CanWait(second, relabelled));

        // Nor a phase change, nor the job's acknowledgement of it, while the signals after it in its old phase may
        var promoted = _projection.Apply(relabelled, Decision(job, 4, 3, "shadow", "reverse_shadow"));
        Assert.False(_projection.CanWait(relabelled, promoted));
        var late = _projection.Apply(promoted, Signal(job, 5, 4, "shadow", 0.002, relabelled.Labels));
        Assert.True(_projection.CanWait(promoted, late));
        var acknowledged = _projection.Apply(late, Signal(job, 6, 5, "reverse_shadow", 0.002, relabelled.Labels));
        Assert.NotNull(acknowledged.Lifecycle.PhaseSince);
        Assert.False(_projection.CanWait(late, acknowledged));
    }

    [Fact]
    public void An_event_the_state_holds_already_is_skipped_when_folded_again()
    {
        // Given a job's state after three signals (as its row holds it)
        var job = "again-" + Guid.NewGuid().ToString("N");
        var state = _projection.Create(job);
        var signals = Enumerable.Range(1, 3).Select(v => Signal(job, v, v - 1, "shadow", 0.001 * v, Labels)).ToList();
        foreach (var signal in signals)
        {
            state = _projection.Apply(state, signal);
        }

        // When the second and third are folded again (a restart from a checkpoint kept before a change that waited)
        var again = _projection.Apply(_projection.Apply(state, signals[1]), signals[2]);

        // Then the state is the same instance, and a fourth signal still counts
        Assert.Same(state, again);
        var fourth = _projection.Apply(again, Signal(job, 4, 3, "shadow", 0.004, Labels));
        Assert.Equal(4, fourth.StreamVersion);
        Assert.Equal(0.004, fourth.Lifecycle.LatestMetrics["error_rate"]);
    }

    LogEvent Signal(string job, long version, int minute, string phase, double errorRate, IReadOnlyDictionary<string, string> labels)
    {
        var at = Start.AddMinutes(minute);
        var body = new SignalRecorded(job, version, at, phase,
            new Dictionary<string, double> { ["error_rate"] = errorRate, ["checksum_mismatch_rate"] = 0.0001, ["landing_latency_p95_ms"] = 700 }, labels, null);
        return new LogEvent(Recorded(job, version, SignalRecorded.EventType, at, version), body);
    }

    LogEvent Decision(string job, long version, int minute, string from, string to)
    {
        var at = Start.AddMinutes(minute);
        var body = new PhaseChanged(Guid.NewGuid(), job, from, to, "promote", "all criteria held", at, "cdc-migration@1", version - 1, 1, version - 1, []);
        return new LogEvent(Recorded(job, version, PhaseChanged.EventType, at, null), body);
    }

    RecordedEvent Recorded(string job, long version, string type, DateTimeOffset at, long? seq) =>
        new(++_position, _position, job, version, Guid.NewGuid(), type, "", null, seq, at, at);
}
