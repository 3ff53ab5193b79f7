using Microsoft.Extensions.Logging;
using Spectre.Console;
using Streaming.Hosting.Logging;
using Streaming.Projector.Rebuilding;

namespace Streaming.Cli.Commands;

/// <summary>
/// <c>streaming rebuild [--fresh] [--batch N] [--no-archive]</c>: rebuilds the job states from the log (what the history
/// archive holds of it, then the rest; all from the log itself with <c>--no-archive</c>) with a progress bar, or with
/// <c>--json</c> only the result as JSON. Ctrl-C stops it, keeping every committed batch; running it again resumes
/// (<c>--fresh</c> starts a new generation instead). A batch (default N = 40,000) commits once 5 × N jobs changed or
/// 25 × N events were replayed, whichever comes first; events are read at most 2,000 at a time. A sharded store has its
/// job states rebuilt shard by shard, each from its own log (with <c>--json</c>, an array of the shards' results).
/// </summary>
public static class RebuildCommand
{
    public static async Task<int> RunAsync(CommandContext context, bool fresh, int batch, bool useArchive, CancellationToken cancellationToken)
    {
        using var loggers = StreamingLogging.ForCommandLine();
        var shards = await context.ShardsAsync(cancellationToken);
        var rebuilds = shards.All.Select(store => new JobStateRebuild(store, loggers.CreateLogger<JobStateRebuild>(), batch, useArchive)).ToList();
        if (context.JsonOutput)
        {
            var rebuilt = new List<RebuildResult>(rebuilds.Count);
            foreach (var rebuild in rebuilds)
            {
                rebuilt.Add(await rebuild.RunAsync(fresh, _ => { }, cancellationToken));
            }
            if (rebuilt.Count == 1)
            {
                context.Print(rebuilt[0], () => { });
            }
            else
            {
                context.Print(rebuilt.Select((result, shard) => new { shard, result }), () => { });
            }
            return 0;
        }
        try
        {
            for (var shard = 0; shard < rebuilds.Count; shard++)
            {
                var of = rebuilds.Count == 1 ? "" : $"shard {shard}: ";
                RebuildResult? result = null;
                await AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                    .StartAsync(async progressContext =>
                    {
                        var task = progressContext.AddTask(of + "replaying events");
                        result = await rebuilds[shard].RunAsync(fresh, progress =>
                        {
                            task.MaxValue = Math.Max(1, progress.Total);
                            task.Value = Math.Min(progress.Done, progress.Total);
                            task.Description = $"{of}generation {progress.Generation}: {progress.Done:N0} events, {progress.PerSecond:N0}/s";
                        }, cancellationToken);
                    });
                AnsiConsole.MarkupLine(
                    $"{of}Generation {result!.Generation} is active: {result.Events:N0} events replayed ({result.FromArchive:N0} from the history archive) in {result.Elapsed.TotalSeconds:0.0} s ({result.PerSecond:N0}/s){(result.Resumed ? ", resumed" : "")}.");
            }
            return 0;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            AnsiConsole.MarkupLine("Interrupted. Run the same command again to resume from the last committed batch.");
            return 130;
        }
    }
}
