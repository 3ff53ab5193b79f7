using System.CommandLine;
using Streaming.Hosting.Logging;
using Microsoft.Extensions.Logging;
using Streaming.Projections.History;
using Streaming.Projector.Rebuilding;
using Streaming.Promoter.Backtesting;

namespace Streaming.Cli.Commands;

/// <summary>
/// <c>backtest</c>, <c>rebuild</c> and <c>archive</c>: the Promoter's and Projector's own commands, pointed at the store this
/// tool found; with <c>--json</c> their results are printed as JSON.
/// </summary>
public static class MaintenanceCommands
{
    public static Command Backtest()
    {
        var candidate = new Argument<FileInfo>("candidate") { Description = "the candidate policy document" };
        var jobs = new Option<string[]>("--job") { Description = "only these jobs (repeatable)" };
        var labels = new Option<string[]>("--label") { Description = "only jobs with NAME=VALUE (repeatable)" };
        var perJob = new Option<bool>("--per-job") { Description = "list the jobs whose decisions differ, with both timelines" };
        var csv = new Option<string?>("--csv") { Description = "also write the per-job differences as CSV to PATH" };
        var cache = new Option<string?>("--cache") { Description = "keep what was read from the store in a local copy at PATH" };
        var noArchive = new Option<bool>("--no-archive") { Description = "read the whole history from the log, not the history archive" };
        var command = new Command("backtest", "Replays the recorded history through a candidate policy and compares it with what was decided")
            { candidate, jobs, labels, perJob, csv, cache, noArchive };
        return command.WithAction(async (context, parse, _) =>
        {
            var args = new List<string> { parse.GetValue(candidate)!.FullName };
            args.AddRange((parse.GetValue(jobs) ?? []).SelectMany(j => new[] { "--job", j }));
            args.AddRange((parse.GetValue(labels) ?? []).SelectMany(l => new[] { "--label", l }));
            if (parse.GetValue(perJob))
            {
                args.Add("--per-job");
            }
            if (parse.GetValue(csv) is { } csvPath)
            {
                args.AddRange(["--csv", csvPath]);
            }
            if (parse.GetValue(cache) is { } cachePath)
            {
                args.AddRange(["--cache", cachePath]);
            }
            if (parse.GetValue(noArchive))
            {
                args.Add("--no-archive");
            }
            return await WithStoreAsync(context, async () =>
            {
                if (!context.JsonOutput)
                {
                    return await BacktestCommand.RunAsync([.. args]);
                }
                // The backtest writes its report as JSON to a file; its text report goes nowhere, the JSON to standard output.
                var report = Path.GetTempFileName();
                var output = Console.Out;
                try
                {
                    Console.SetOut(TextWriter.Null);
                    var exit = await BacktestCommand.RunAsync([.. args, "--json", report]);
                    Console.SetOut(output);
                    if (exit == 0)
                    {
                        Console.Out.WriteLine(await File.ReadAllTextAsync(report));
                    }
                    return exit;
                }
                finally
                {
                    Console.SetOut(output);
                    File.Delete(report);
                }
            });
        });
    }

    public static Command Rebuild()
    {
        var fresh = new Option<bool>("--fresh") { Description = "start a new generation instead of resuming an interrupted one" };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 40_000, Description = "batch size N: a commit per 25 × N events or 5 × N changed jobs" };
        var noArchive = new Option<bool>("--no-archive") { Description = "replay the whole log, not the history archive" };
        var command = new Command("rebuild", "Rebuilds the job states into a new generation and makes it the active one") { fresh, batch, noArchive };
        return command.WithAction(async (context, parse, cancellationToken) =>
        {
            if (!context.JsonOutput)
            {
                var args = new List<string>();
                if (parse.GetValue(fresh))
                {
                    args.Add("--fresh");
                }
                args.AddRange(["--batch", parse.GetValue(batch).ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                if (parse.GetValue(noArchive))
                {
                    args.Add("--no-archive");
                }
                return await WithStoreAsync(context, () => RebuildCommand.RunAsync([.. args]));
            }
            using var loggers = StreamingLogging.ForCommandLine();
            var rebuild = new JobStateRebuild(await context.StoreAsync(cancellationToken), loggers.CreateLogger<JobStateRebuild>(), parse.GetValue(batch),
                useArchive: !parse.GetValue(noArchive));
            var result = await rebuild.RunAsync(parse.GetValue(fresh), _ => { }, cancellationToken);
            context.Print(result, () => { });
            return 0;
        });
    }

    public static Command Archive()
    {
        var command = new Command("archive", "Brings the history archive up to the log once");
        return command.WithAction(async (context, _, cancellationToken) =>
        {
            using var loggers = StreamingLogging.ForCommandLine();
            var store = await context.StoreAsync(cancellationToken);
            var archive = new HistoryArchive(store, loggers.CreateLogger<HistoryArchive>());
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var archived = await archive.CatchUpAsync(cancellationToken);
            var reached = await HistoryArchive.ReachedAsync(store, cancellationToken);
            context.Print(new { archived, seconds = clock.Elapsed.TotalSeconds, reaches = reached.ToString() },
                () => Console.WriteLine($"archived {archived:N0} events in {clock.Elapsed.TotalSeconds:0.0} s; the archive reaches {reached}"));
            return 0;
        });
    }

    // The wrapped commands find the store through the environment, as they do when run on their own.
    static async Task<int> WithStoreAsync(CommandContext context, Func<Task<int>> run)
    {
        var before = Environment.GetEnvironmentVariable("ConnectionStrings__EventStore");
        Environment.SetEnvironmentVariable("ConnectionStrings__EventStore", context.ConnectionString);
        try
        {
            return await run();
        }
        finally
        {
            Environment.SetEnvironmentVariable("ConnectionStrings__EventStore", before);
        }
    }
}
