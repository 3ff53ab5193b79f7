using System.Diagnostics;
using Streaming.Chaos.Environment;
using Streaming.Chaos.Verification;
using Streaming.Chaos.Workload;

namespace Streaming.Chaos.Scenarios;

/// <summary>
/// One run of the workload through the real system: a fresh database on the suite's PostgreSQL, a fresh embedded
/// broker (in this process, where the suite injects its faults), and Ingest, Projector and Promoter as processes under
/// the supervisor. The workload is produced with the plan's faults injected along the way; once everything has caught
/// up, the store and the published decisions are read and compared with the signals and with the reference run. With
/// several shards the run's store is a database on each of the first S clusters, and every check reads all of them.
/// </summary>
public sealed class PipelineRun(ChaosSettings settings, IReadOnlyList<PostgresCluster> postgres)
{
    public PipelineRun(ChaosSettings settings, PostgresCluster postgres)
        : this(settings, [postgres])
    {
    }

    static readonly TimeSpan CatchUpTimeout = TimeSpan.FromMinutes(10);

    public async Task<(RunFigures Figures, StoreSnapshot Snapshot)> RunAsync(
        string name, ChaosWorkload workload, IFaultPlan plan, StoreSnapshot? reference, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await using var stage = await RunStage.StartAsync(settings, postgres, name, cancellationToken);
        var (store, broker, services, probe) = (stage.Shards, stage.Broker, stage.Services, stage.Probe);
        await using var follower = new PhaseChangeFollower(broker.BootstrapServers);

        using var producer = new PacedProducer(broker.BootstrapServers, store, settings.Partitions);
        var context = new FaultContext(broker, postgres, store, services, workload.UniqueSignals, settings.Partitions);
        await producer.ProduceAsync(workload.Messages(), (sent, ct) => plan.AtAsync(sent, context, ct), cancellationToken);
        await plan.FinishAsync(context, cancellationToken);
        if (producer.Failed > 0)
        {
            throw new InvalidOperationException($"{producer.Failed} messages were never acknowledged by the broker (first: {producer.FirstError})");
        }
        await probe.WaitForIngestAsync(CatchUpTimeout, services.RecentOutput, cancellationToken);
        await probe.WaitForFoldsAsync(CatchUpTimeout, services.RecentOutput, cancellationToken);

        var snapshot = await StoreSnapshot.ReadAsync(store, "chaos-", cancellationToken);
        var examples = new List<string>();
        var published = PublishedChanges.Read(broker.BootstrapServers, settings.Partitions, snapshot.Decisions.Keys.ToList(), TimeSpan.FromMinutes(2));
        var missedByFollower = await follower.MissingAfterAsync(snapshot.Decisions.Keys.ToList(), TimeSpan.FromMinutes(1));
        var restarts = services.Restarts;
        var exits = services.SupervisorLines.Where(l => l.Contains("restarting it in", StringComparison.Ordinal)).Take(Math.Max(0, restarts - plan.ExpectedExits) == 0 ? 0 : 6).ToList();
        examples.AddRange(exits);
        if (restarts > plan.ExpectedExits)
        {
            // What each exited process said last before its exit (warnings and errors: the services log at Warning), to find why.
            var output = services.OutputLines.ToList();
            foreach (var exit in exits)
            {
                var exited = ExitedService(exit);
                var at = output.IndexOf(exit);
                examples.AddRange(output.Take(at < 0 ? output.Count : at).Where(l => l.StartsWith(exited + " ", StringComparison.Ordinal)).TakeLast(12));
            }
        }
        var exitCode = await services.StopAsync();
        var (lost, duplicated) = RunComparison.Signals(workload, snapshot);
        var rebuildDifferences = await ProjectionRebuild.DifferencesAsync(settings.RepositoryRoot, stage.ConnectionStrings, store, examples, cancellationToken);
        var figures = new RunFigures(
            plan.Name,
            plan.Injected,
            producer.Sent,
            workload.UniqueSignals,
            snapshot.SignalRows,
            lost,
            duplicated,
            reference is null ? 0 : RunComparison.Differences(snapshot.Signals, reference.Signals, "signal", examples),
            snapshot.Decisions.Count,
            RunComparison.Unpublished(snapshot, published),
            published.Conflicting,
            published.Messages,
            missedByFollower,
            reference is null ? 0 : RunComparison.Differences(snapshot.JobEvents, reference.JobEvents, "event", examples),
            reference is null ? 0 : RunComparison.Differences(RunComparison.Settled(snapshot.JobStates), RunComparison.Settled(reference.JobStates), "job state", examples),
            rebuildDifferences,
            snapshot.Misplaced,
            plan.Unmet,
            restarts - plan.ExpectedExits,
            exitCode,
            examples,
            clock.Elapsed);
        return (figures, snapshot);
    }

    // "supervisor | promoter-shard1 (pid 12369) exited with code 1; restarting …" → "promoter-shard1"
    static string ExitedService(string supervisorLine) =>
        supervisorLine[(supervisorLine.IndexOf('|', StringComparison.Ordinal) + 1)..].TrimStart().Split(' ')[0];
}
