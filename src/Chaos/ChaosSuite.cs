using System.Diagnostics;
using Streaming.Chaos.BadInput;
using Streaming.Chaos.Environment;
using Streaming.Chaos.Scenarios;
using Streaming.Chaos.Verification;
using Streaming.Chaos.Workload;

namespace Streaming.Chaos;

/// <summary>
/// The fault suite: an uninterrupted reference run of the seed's signals, then the same signals under kill -9 of the
/// services, under a PostgreSQL restart, and under broker faults, each compared with the reference; and every kind of
/// bad input. It runs on a PostgreSQL cluster of its own (one per shard with several), removed at the end with its
/// working folder.
/// </summary>
public static class ChaosSuite
{
    public static async Task<ChaosReport> RunAsync(ChaosSettings settings, Action<string> progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(settings.WorkDirectory);
        try
        {
            await using var clusters = await PostgresClusters.StartAsync(settings.RepositoryRoot, settings.WorkDirectory, settings.Shards);
            var postgres = clusters.All[0];
            var workload = new ChaosWorkload(settings.Jobs, settings.SignalsPerJob, settings.Seed);
            // The reference run has one process of each service on one shard: several on several must decide as one does.
            var referencePipeline = new PipelineRun(settings with { Instances = 1, Shards = 1 }, postgres);
            var pipeline = new PipelineRun(settings, clusters.All);
            var plans = new List<(string Name, IFaultPlan Plan)>();
            if (settings.Scenarios.Contains("kills"))
            {
                plans.Add(("kills", new KillPlan(settings.Kills, workload.UniqueSignals, settings.Seed, settings.InstancesOf, settings.Shards)));
            }
            if (settings.Scenarios.Contains("postgres"))
            {
                // With shards, one shard's cluster stops and the others go on.
                plans.Add(("postgres", new PostgresOutagePlan(settings.PostgresOutage, settings.Shards > 1 ? 1 : 0)));
            }
            if (settings.Scenarios.Contains("broker"))
            {
                plans.Add(("broker", new BrokerFaultPlan()));
            }
            if (settings.Scenarios.Contains("takeover") && settings.Instances > 1)
            {
                plans.Add(("takeover", new HostDownPlan(settings.HostDown, ChaosSettings.TakeoverLimit, settings.Instances, settings.Shards)));
            }
            RunFigures? reference = null;
            var runs = new List<RunFigures>();
            if (plans.Count > 0)
            {
                progress($"reference run: {workload.UniqueSignals:N0} signals from {workload.Jobs:N0} jobs");
                var (figures, snapshot) = await referencePipeline.RunAsync("reference", workload, new NoFaults(), null, cancellationToken);
                reference = figures;
                progress(Summary(figures));
                foreach (var (name, plan) in plans)
                {
                    progress($"{plan.Name} run{(settings.Instances > 1 ? $", {settings.Instances} instances of each service" : "")}{(settings.IngestInstances is { } ingest ? $" ({ingest} of Ingest)" : "")}{(settings.Shards > 1 ? $", {settings.Shards} shards" : "")}");
                    var (run, _) = await pipeline.RunAsync(name, workload, plan, snapshot, cancellationToken);
                    runs.Add(run);
                    progress(Summary(run));
                }
            }
            BadInputFigures? badInput = null;
            if (settings.Scenarios.Contains("bad-input"))
            {
                progress("bad-input run");
                badInput = await new BadInputRun(settings with { Instances = 1, Shards = 1 }, postgres).RunAsync(cancellationToken);
                progress($"bad input: {badInput.KindsPassed} of {badInput.KindsTried} kinds dead-lettered with a reason");
            }
            return new ChaosReport(settings, reference, runs, badInput, clock.Elapsed);
        }
        finally
        {
            try
            {
                Directory.Delete(settings.WorkDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    static string Summary(RunFigures run) =>
        $"  {run.Scenario}: {run.MessagesSent:N0} sent, {run.SignalsStored:N0} stored, {run.Lost} lost, {run.Duplicated} duplicated, " +
        $"{run.Decisions} decisions, {run.UnexpectedExits} unexpected exits, {run.Duration.TotalSeconds:0} s" +
        (run.Failures() is { Count: > 0 } failures ? "; FAILED: " + string.Join("; ", failures) : "");
}
