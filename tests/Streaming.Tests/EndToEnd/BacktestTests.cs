using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Lifecycle;
using Streaming.Projections.History;
using Streaming.Promoter.Backtesting;
using Streaming.Promoter.Decisions;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.EndToEnd;

public sealed class BacktestTests(Pipeline pipeline) : IClassFixture<Pipeline>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    readonly StoreProbe _store = new(pipeline.Database);

    [Fact]
    public async Task Replaying_the_recorded_history_reproduces_the_live_decisions_and_a_candidate_is_compared_with_them()
    {
        // Given recorded history: a healthy shadow job (promoted live), a job demoted live, and one never promoted
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        producer.Produce(SignalFactory.Minutes("bt-healthy", 0, 100, "shadow", SignalFactory.Good)
            .Concat(SignalFactory.Minutes("bt-demoted", 0, 10, "reverse_shadow", SignalFactory.Good))
            .Concat(SignalFactory.Minutes("bt-demoted", 10, 3, "reverse_shadow", SignalFactory.Failing))
            .Concat(SignalFactory.Minutes("bt-bad", 0, 100, "shadow", SignalFactory.BadChecksums)));
        foreach (var (job, seq) in new[] { ("bt-healthy", 100L), ("bt-demoted", 13L), ("bt-bad", 100L) })
        {
            await Eventually.Get(() => _store.LastSeqAsync(job), s => s == seq, Timeout, $"the projection to see all of {job}");
            await Eventually.True(() => _store.HasProcessedAsync(DecisionFold.CheckpointName, job), Timeout, $"the promoter to process {job}");
        }

        // When it is backtested against a candidate whose shadow soak is 10 minutes instead of 30
        var candidate = PolicyDocument.Parse(DefaultPolicies.CdcMigrationText.Replace("soak: 30m", "soak: 10m", StringComparison.Ordinal), 0).Policy!;
        var backtest = new Backtest(candidate, null, NullLogger.Instance);
        var (_, fromArchive, fromLog) = await BacktestReplay.ReplayAsync(pipeline.Database, backtest, null, useArchive: false, NullLogger.Instance, CancellationToken.None);
        var report = backtest.Report(perJob: true);
        Assert.Equal((0, report.Events), (fromArchive, fromLog));

        // Then the recorded policies, replayed, make exactly the decisions the live system stored
        Assert.True(report.BaselineReproducesRecord, $"{report.BaselineMismatches} decisions differ");
        Assert.Equal(2, report.RecordedDecisions);
        Assert.Equal((1, 1), (report.Baseline.Promotions, report.Baseline.Demotions));

        // And the candidate promotes the healthy job 20 minutes sooner (and, with the job following it, on to cleanup),
        // demotes the same job, and never promotes the bad one
        var toReverseShadow = (Before: Single(report.Baseline, "reverse_shadow"), After: Single(report.CandidateSide, "reverse_shadow"));
        Assert.Equal(30.0 / 60, toReverseShadow.Before.P50Hours, 3);
        Assert.Equal(10.0 / 60, toReverseShadow.After.P50Hours, 3);
        Assert.Equal(1, report.CandidateSide.Demotions);
        Assert.DoesNotContain(report.Differences, d => d.JobId == "bt-bad");
        Assert.Contains(report.Differences, d => d.JobId == "bt-healthy");
        Assert.Equal(3, report.Jobs);

        // And read from the history archive (blocks of 50 events, the rest from the log) it reports exactly the same
        var archived = await new HistoryArchive(pipeline.Database, NullLogger.Instance, blockSize: 50).CatchUpAsync(CancellationToken.None);
        Assert.True(archived >= 50 && archived % 50 == 0, $"{archived} events archived");
        var fromBlocks = new Backtest(candidate, null, NullLogger.Instance);
        var read = await BacktestReplay.ReplayAsync(pipeline.Database, fromBlocks, null, useArchive: true, NullLogger.Instance, CancellationToken.None);
        Assert.Equal((archived, report.Events - archived), (read.FromArchive, read.FromLog));
        Assert.Equal(JsonSerializer.Serialize(report), JsonSerializer.Serialize(fromBlocks.Report(perJob: true)));
    }

    static PhaseTiming Single(BacktestSide side, string phase) => Assert.Single(side.TimeToPhase, t => t.Phase == phase);
}
