using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.LifecycleEvents;
using Streaming.Projections;
using Streaming.Projections.Tail;
using Streaming.Projector.JobStates;

namespace Streaming.Projector.Rebuilding;

/// <summary>
/// Replays the whole log (every partition, each in its commit order) into a new generation of the job states (what the history archive holds of it from there, the
/// rest from the log itself; all from the log without <c>useArchive</c>), in batches that each commit with their checkpoint, then makes it the active one. Interrupted at any point, it resumes from its last committed batch; the active
/// generation serves readers throughout.
/// </summary>
public sealed class JobStateRebuild(NpgsqlDataSource dataSource, ILogger logger, int batchSize = 40_000, bool useArchive = true)
{
    // Events read at a time: a read this small is folded and dropped before the GC has to promote it (10,000 at a time
    // was about 10% slower and took 40% more memory here).
    const int MaxReadBatch = 2_000;

    public async Task<RebuildResult> RunAsync(bool fresh, Action<RebuildProgress>? report, CancellationToken cancellationToken)
    {
        var generations = new JobStateGenerations(dataSource);
        var (generation, resumed) = await generations.BuildingAsync(fresh, cancellationToken);
        // One projection per core, each folding its share of the jobs (a job's row depends only on its own events and on
        // the policies and known issues, which every one of them follows).
        var projections = Enumerable.Range(0, Environment.ProcessorCount)
            .Select(_ => new JobStateProjection(dataSource, new ActivePolicies(logger), new KnownIssues(), generation))
            .ToList();
        var fold = new BufferedFold<JobStateView>(dataSource, projections, FoldOptions.CatchUp(batchSize * 5, batchSize * 25), logger, readsArchive: useArchive);
        await fold.StartAsync(cancellationToken);
        var total = await RemainingAsync(generation, cancellationToken);
        logger.LogInformation("Rebuilding job states into generation {Generation} ({State}); about {Events} events to replay",
            generation.Number, resumed ? "resumed" : "new", total);
        var started = DateTime.UtcNow;
        var catchingUp = FoldCatchUp.RunAsync(fold, new LogSource(dataSource, logger, Math.Min(batchSize, MaxReadBatch)), cancellationToken);
        while (!catchingUp.IsCompleted)
        {
            report?.Invoke(new RebuildProgress(generation.Number, fold.Handled, total, DateTime.UtcNow - started));
            await Task.WhenAny(catchingUp, Task.Delay(200, CancellationToken.None));
        }
        var replayed = await catchingUp;
        var elapsed = DateTime.UtcNow - started;
        report?.Invoke(new RebuildProgress(generation.Number, replayed, Math.Max(total, replayed), elapsed));
        await generations.ActivateAsync(generation, cancellationToken);
        logger.LogInformation("Generation {Generation} of the job states is active: {Events} events in {Seconds:0.0} s", generation.Number, replayed, elapsed.TotalSeconds);
        return new RebuildResult(generation.Number, resumed, replayed, fold.FromArchive, elapsed);
    }

    // What the replay will read: every partition's events after the generation's checkpoint there, each event once,
    // with its own partition's commit.
    async Task<long> RemainingAsync(JobStateGeneration generation, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            select count(*) from es.commits ec join es.events e on e.tx_id = ec.tx_id and e.partition = ec.partition
            where not exists (select 1 from es.checkpoints c
                               where c.name = @name and c.partition = ec.partition and (ec.commit, e.global_position) <= (c.commit, c.position))
            """);
        command.Parameters.AddWithValue("name", generation.CheckpointName);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
