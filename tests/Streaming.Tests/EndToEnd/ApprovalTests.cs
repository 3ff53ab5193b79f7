using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.Signals;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.Promoter.Approvals;
using Streaming.Promoter.Backtesting;
using Streaming.Promoter.Decisions;
using Streaming.Promoter.Policies;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.EndToEnd;

/// <summary>An approval gate through the running Promoter and Projector: the request, the approval and the move recorded in the log, and a backtest of it.</summary>
public sealed class ApprovalTests(Pipeline pipeline) : IClassFixture<Pipeline>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    readonly StoreProbe _store = new(pipeline.Database);

    /// <summary>Jobs labelled gate=manual leave shadow after a 5-minute soak on a clean error rate, once an operator approves.</summary>
    internal const string ManualGate = """
        name: manual-gate
        priority: 10
        selector:
          matchLabels: { gate: manual }
        phases: [shadow, reverse_shadow]
        gates:
          - from: shadow
            to: reverse_shadow
            soak: 5m
            approval: required
            promote:
              window: 5m
              criteria:
                - { metric: error_rate, aggregation: max, comparison: "<=", threshold: 0.01 }
        """;

    static IEnumerable<JobSignal> Minutes(string job, int from, int minutes) =>
        SignalFactory.Minutes(job, from, minutes, "shadow", SignalFactory.Good).Select(s => s with { Labels = new Dictionary<string, string> { ["gate"] = "manual" } });

    [Fact]
    public async Task A_job_waits_for_approval_is_promoted_after_it_and_a_backtest_reproduces_the_decision()
    {
        // Given the approval gate, and a job that passes its criteria at the end of its soak and signals on
        var published = await pipeline.DeciderServices.GetRequiredService<PolicyPublisher>().PublishAsync(ManualGate, "tests", CancellationToken.None);
        Assert.NotEqual(PolicyPublicationOutcome.Rejected, published.Outcome);
        const string job = "approval-e2e-1";
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        producer.Produce(Minutes(job, 0, 9));

        // Then the Promoter asks for approval instead of promoting it, and its row says it waits
        await Eventually.Get(() => _store.CountEventsAsync(job, ApprovalRequested.EventType), n => n == 1, Timeout, "the request for approval");
        await Eventually.Get(() => _store.LastSeqAsync(job), s => s == 9, Timeout, "the projection to see every signal");
        await Eventually.True(() => _store.HasProcessedAsync(DecisionFold.CheckpointName, job), Timeout, "the promoter to process the job");
        Assert.Equal(0, await _store.CountEventsAsync(job, PhaseChanged.EventType));
        await Eventually.True(async () => (await FlagsAsync(job)).Contains(LifecycleFlags.AwaitingApproval), Timeout, "the job's row to say it awaits approval");

        // When an operator approves it and it signals again
        var writer = new ApprovalWriter(pipeline.DeciderServices.GetRequiredService<EventStreams>(), TimeProvider.System);
        await writer.GrantAsync([new ApprovalTarget(job, "shadow", "reverse_shadow")], "alice", "evidence checked", ApprovalGranted.OneJob, CancellationToken.None);
        await Eventually.True(async () => (await FlagsAsync(job)).Contains(LifecycleFlags.Approved), Timeout, "the job's row to say it is approved");
        producer.Produce(Minutes(job, 9, 1));

        // Then that signal promotes it, and its row no longer waits
        await Eventually.Get(() => _store.CountEventsAsync(job, PhaseChanged.EventType), n => n == 1, Timeout, "the promotion");
        await Eventually.Get(() => _store.PhaseAsync(job), p => p == "reverse_shadow", Timeout, "the job's row to be promoted");
        await Eventually.True(async () => !(await FlagsAsync(job)).Contains(LifecycleFlags.AwaitingApproval), Timeout, "the job's row to stop waiting");
        var change = ContractsJson.Deserialize<PhaseChanged>(await DataAsync(job, PhaseChanged.EventType));
        Assert.Equal(("manual-gate@" + published.Version, SignalFactory.Start.AddMinutes(9)), (change.Policy, change.DecidedAt));

        // And a backtest of the recorded history (the approval in its place in the log) makes exactly the recorded decision
        var candidate = PolicyDocument.Parse(ManualGate, 0).Policy!;
        var backtest = new Backtest(candidate, (id, _) => id == job, NullLogger.Instance);
        await BacktestReplay.ReplayAsync(pipeline.Database, backtest, null, useArchive: false, NullLogger.Instance, CancellationToken.None);
        var report = backtest.Report(perJob: true);
        Assert.True(report.BaselineReproducesRecord, $"{report.BaselineMismatches} decisions differ");
        Assert.Equal((1, 1, 1), (report.RecordedDecisions, report.Baseline.Promotions, report.CandidateSide.Promotions));
        Assert.Equal(0, report.JobsDiffering);
    }

    async Task<string[]> FlagsAsync(string job)
    {
        await using var command = pipeline.Database.CreateCommand("select flags from projections.job_states where job_id = $1");
        command.Parameters.AddWithValue(job);
        return await command.ExecuteScalarAsync() as string[] ?? [];
    }

    async Task<string> DataAsync(string job, string type)
    {
        await using var command = pipeline.Database.CreateCommand("select data from es.events where stream_id = $1 and type = $2 order by version desc limit 1");
        command.Parameters.AddWithValue(job);
        command.Parameters.AddWithValue(type);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
