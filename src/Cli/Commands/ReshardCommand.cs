using System.CommandLine;
using System.Globalization;
using Npgsql;
using Spectre.Console;
using Streaming.Cli.Connection;
using Streaming.Cli.Resharding;

namespace Streaming.Cli.Commands;

/// <summary>
/// <c>reshard --shards S'</c>: moves the store's log partitions onto S' shards (partition p onto shard p mod S'), offline.
/// The shards are named as the services are told them: <c>Store__Shards</c> the count in use, and a connection string
/// for each of max(S, S') shards (<c>ConnectionStrings__EventStoreShard{k}</c>, or <c>endpoints.json</c>).
/// </summary>
public static class ReshardCommand
{
    /// <summary>The exit of a run stopped by <c>--max-moves</c> with partitions left to move.</summary>
    public const int PartitionsLeft = 3;

    public static Command Create()
    {
        var shards = new Option<int>("--shards") { Required = true, Description = "the number of shards S' to put the partitions on (partition p on shard p mod S')" };
        var maxMoves = new Option<int?>("--max-moves") { Description = "move at most N partitions, then stop (exit 3); a next run goes on" };
        var command = new Command("reshard",
            "Moves the log's partitions onto S' shards, with every service stopped: each partition whose shard changes is copied, checked and removed " +
            "from its old shard; rerun after a failure to go on") { shards, maxMoves };
        return command.WithAction((context, parse, cancellationToken) => RunAsync(context, parse.GetValue(shards), parse.GetValue(maxMoves), cancellationToken));
    }

    static async Task<int> RunAsync(CommandContext context, int newShards, int? maxMoves, CancellationToken cancellationToken)
    {
        if (newShards < 1)
        {
            throw new ArgumentException($"--shards must be at least 1, not {newShards}");
        }
        var current = StoreConnection.ResolveOtherShards(context.Endpoints).Count + 1;
        var all = Math.Max(current, newShards);
        var connectionStrings = (IReadOnlyList<string>)[context.ConnectionString, .. StoreConnection.ResolveShards(all, context.Endpoints)];
        var dataSources = connectionStrings
            .Select(c => NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(c) { ApplicationName = StoreSessions.ApplicationName }.ConnectionString))
            .ToList();
        try
        {
            var result = await ShardRebalance.RunAsync(dataSources, newShards, maxMoves, line => context.Messages.WriteLine(line), cancellationToken);
            context.Print(new
            {
                result.Shards,
                result.Partitions,
                moved = result.Moved.Select(m => new { partition = m.Partition, from = m.From, to = m.To, rows = m.Rows }),
                events = result.Events,
                left = result.Left,
                result.Seconds,
            }, () => Print(result, current));
            return result.Left == 0 ? 0 : PartitionsLeft;
        }
        finally
        {
            foreach (var dataSource in dataSources)
            {
                await dataSource.DisposeAsync();
            }
        }
    }

    static void Print(ReshardResult result, int current)
    {
        var c = CultureInfo.InvariantCulture;
        if (result.Moved.Count == 0 && result.Left == 0)
        {
            Console.WriteLine(string.Create(c, $"every partition is on its shard of {result.Shards}: nothing to move"));
            return;
        }
        foreach (var moved in result.Moved)
        {
            Console.WriteLine(string.Create(c, $"partition {moved.Partition}: shard {moved.From} → {moved.To}: ") + (moved.Rows.Count == 0
                ? "copied by an earlier run; removed from the old shard"
                : string.Join(", ", moved.Rows.Where(r => r.Value > 0).Select(r => string.Create(c, $"{r.Key} {r.Value:N0}")))));
        }
        var totals = result.Moved.SelectMany(m => m.Rows).GroupBy(r => r.Key).Select(g => string.Create(c, $"{g.Key} {g.Sum(r => r.Value):N0}"));
        Console.WriteLine(string.Create(c,
            $"moved {result.Moved.Count} of {result.Partitions} partitions ({result.Events:N0} events) from {current} to {result.Shards} shards in {result.Seconds:F1} s: {string.Join(", ", totals)}"));
        if (result.Left > 0)
        {
            Console.WriteLine(string.Create(c, $"{result.Left} partitions are still to move: run reshard again"));
        }
        else
        {
            Console.WriteLine(string.Create(c,
                $"done: set Store__Shards={result.Shards} and every shard's connection string for every service, then start them (a Projector and a Promoter per shard)"));
        }
    }
}
