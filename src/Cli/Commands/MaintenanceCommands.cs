using System.CommandLine;
using Npgsql;

namespace Streaming.Cli.Commands;

/// <summary>
/// <c>migrate</c>, <c>backtest</c>, <c>rebuild</c> and <c>archive</c>: the Promoter's and Projector's maintenance work, run by this tool on
/// the store it found; with <c>--json</c> their results are printed as JSON.
/// </summary>
public static class MaintenanceCommands
{
    public static Command Migrate()
    {
        var command = new Command("migrate", "Brings every part's tables up to date (what each service applies to its own when it starts)");
        return command.WithAction(async (context, _, cancellationToken) =>
        {
            await using var dataSource = NpgsqlDataSource.Create(context.ConnectionString);
            var applied = await StoreSchema.MigrateAsync(dataSource, cancellationToken);
            context.Print(new { applied }, () => Console.WriteLine(applied.Count == 0
                ? $"the store is up to date (version {StoreSchema.All[^1].Version})"
                : $"applied {string.Join(", ", applied)}"));
            return 0;
        });
    }

    public static Command Backtest()
    {
        var candidate = new Argument<FileInfo>("candidate") { Description = "the candidate policy document" };
        var jobs = new Option<string[]>("--job") { Description = "only these jobs (repeatable)" };
        var labels = new Option<string[]>("--label") { Description = "only jobs with NAME=VALUE (repeatable)" };
        var perJob = new Option<bool>("--per-job") { Description = "list the jobs whose decisions differ, with both timelines" };
        var csv = new Option<string?>("--csv") { Description = "also write the per-job differences as CSV to PATH" };
        var cache = new Option<string?>("--cache") { Description = "keep what was read from the store in a local copy at PATH" };
        var noArchive = new Option<bool>("--no-archive") { Description = "read the whole history from the log, not the history archive" };
        var withoutPauses = new Option<bool>("--without-pauses") { Description = "replay the candidate as if no operator had paused promotions" };
        var command = new Command("backtest", "Replays the recorded history (every shard's, of a sharded store) through a candidate policy and compares it with what was decided")
            { candidate, jobs, labels, perJob, csv, cache, noArchive, withoutPauses };
        return command.WithAction((context, parse, cancellationToken) => BacktestCommand.RunAsync(context, new BacktestOptions(
            parse.GetValue(candidate)!, parse.GetValue(jobs) ?? [], parse.GetValue(labels) ?? [], parse.GetValue(perJob), parse.GetValue(csv),
            parse.GetValue(cache), UseArchive: !parse.GetValue(noArchive), WithoutPauses: parse.GetValue(withoutPauses)), cancellationToken));
    }

    public static Command Rebuild()
    {
        var fresh = new Option<bool>("--fresh") { Description = "start a new generation instead of resuming an interrupted one" };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 40_000, Description = "batch size N: a commit per 25 × N events or 5 × N changed jobs" };
        var noArchive = new Option<bool>("--no-archive") { Description = "replay the whole log, not the history archive" };
        var command = new Command("rebuild", "Rebuilds the job states into a new generation and makes it the active one") { fresh, batch, noArchive };
        return command.WithAction((context, parse, cancellationToken) =>
            RebuildCommand.RunAsync(context, parse.GetValue(fresh), parse.GetValue(batch), useArchive: !parse.GetValue(noArchive), cancellationToken));
    }

    public static Command Archive()
    {
        var command = new Command("archive", "Brings the history archive up to the log once (each shard's, one after another, of a sharded store)");
        return command.WithAction((context, _, cancellationToken) => ArchiveCommand.RunAsync(context, cancellationToken));
    }
}
