using Streaming.Cli;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Ingest.Appending;
using Streaming.Lifecycle;
using Streaming.LifecycleEvents;
using Streaming.Projector.JobStates;
using Streaming.Promoter.Policies;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>A job's page is current to its latest signals while its row waits to be written (a change that moves only metrics).</summary>
public sealed class JobDetailCurrentTests
{
    static readonly DateTimeOffset Start = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);
    static readonly IReadOnlyDictionary<string, string> Labels = new Dictionary<string, string> { ["team"] = "orders" };

    [Fact]
    public async Task A_job_s_page_folds_in_the_signals_stored_after_its_row_as_the_projector_folds_them()
    {
        await TestDatabase.UseFreshAsync(async dataSource =>
        {
            // Given the default policy published, five signals of a job stored, and its row as written after the first
            var ct = CancellationToken.None;
            await StoreSchema.MigrateAsync(dataSource, ct);
            var streams = new EventStreams(dataSource);
            await new PolicyPublisher(streams, TimeProvider.System).PublishAsync(DefaultPolicies.CdcMigrationText, "tests", ct);
            var policy = DefaultPolicies.CdcMigration;
            var job = "current-" + Guid.NewGuid().ToString("N");
            var signals = Enumerable.Range(1, 5).Select(seq => new SignalRecorded(job, seq, Start.AddMinutes(seq), "shadow",
                new Dictionary<string, double> { ["checksum_mismatch_rate"] = 0.0001, ["landing_latency_p95_ms"] = 700, ["error_rate"] = 0.001 * seq },
                Labels, null)).ToList();
            // and a sixth the Projector cannot read (its time is before 2000), which it skips for the job
            var unreadable = $$$"""{"jobId":"{{{job}}}","seq":6,"emittedAt":"0001-01-01T00:00:00Z","phase":"shadow","metrics":{},"labels":{}}""";
            await new SignalLog(dataSource).AppendSignalsAsync(
                [.. signals.Select(s => new SignalToAppend(job, s.Seq, EventIds.ForSignal(job, s.Seq), SignalRecorded.EventType, ContractsJson.Serialize(s), null, s.EmittedAt)),
                 new SignalToAppend(job, 6, EventIds.ForSignal(job, 6), SignalRecorded.EventType, unreadable, null, Start.AddMinutes(6))],
                [], ct);
            var stored = await streams.ReadStreamForwardAsync(job, 1, 10, ct);
            var folded = new List<JobLifecycle>();
            var lifecycle = JobLifecycleDecider.Initial(job);
            for (var i = 0; i < signals.Count; i++)
            {
                lifecycle = JobLifecycleDecider.Evolve(lifecycle, SignalSamples.From(stored[i], signals[i]), policy);
                folded.Add(lifecycle);
            }
            await JobPage.WriteRowAsync(dataSource, new JobStateView(folded[0], Labels, null, null, stored[0].Version), policy);

            // When its page is read
            var detail = await JobPage.ReadAsync(dataSource, job);

            // Then it shows the fifth signal, and the criteria over all five, as the Projector's fold of all five has them,
            // the unreadable sixth left out as the Projector leaves it out, also from the recent signals
            Assert.NotNull(detail);
            var current = folded[^1];
            Assert.Equal(5, detail.LastSeq);
            Assert.Equal(Start.AddMinutes(5), detail.LastSignalAt);
            Assert.Equal(0.005, detail.Metrics["error_rate"]);
            Assert.Equal([5L, 4, 3, 2, 1], detail.RecentSignals.Select(s => s.Seq));
            Assert.Equal(current.PromotionStreak, detail.PromotionStreak);
            var report = JobLifecycleDecider.Evaluate(current, policy);
            Assert.Equal(report.Criteria.Select(c => (c.Metric, c.Value, c.Samples)), detail.Promote.Select(c => (c.Metric, c.Value, c.Samples)));
            Assert.NotEqual(
                JobLifecycleDecider.Evaluate(folded[0], policy).Criteria.Select(c => (c.Metric, c.Value, c.Samples)),
                detail.Promote.Select(c => (c.Metric, c.Value, c.Samples)));
        });
    }
}
