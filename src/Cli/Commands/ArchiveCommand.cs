using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Streaming.EventStore;
using Streaming.Hosting.Logging;
using Streaming.Projections.History;
using Streaming.Projections.Tail;

namespace Streaming.Cli.Commands;

/// <summary>
/// <c>streaming archive</c>: brings the history archive up to the log once and exits, as the Projector does
/// continuously; for a store no Projector has followed (a restored or bulk-loaded one). Ctrl-C stops it, keeping every
/// block written; running it again continues. A sharded store has each shard's archive brought up to its own log in
/// turn, of the shard's own partitions: a shard other than 0 leaves out its copy of the control partition, which shard 0
/// archives (with <c>--json</c>, an array of the shards' results).
/// </summary>
public static class ArchiveCommand
{
    sealed record ShardArchive(int Shard, HistoryArchive Archive, FollowedPartitions? Partitions);

    public static async Task<int> RunAsync(CommandContext context, CancellationToken cancellationToken)
    {
        using var loggers = StreamingLogging.ForCommandLine();
        var shards = await context.ShardsAsync(cancellationToken);
        var partitioner = shards.Map is null ? null : await EventStoreSchema.ReadPartitioningAsync(shards.Control, cancellationToken);
        var archives = shards.All
            .Select((store, shard) => new ShardArchive(shard, new HistoryArchive(store, loggers.CreateLogger<HistoryArchive>()),
                partitioner is null ? null : FollowedPartitions.Share(shards.Map!.PartitionsOf(shard), partitioner)))
            .ToList();
        var clock = Stopwatch.StartNew();
        using var progress = new Timer(
            _ =>
            {
                var archived = archives.Sum(a => a.Archive.Archived);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"archived {archived:N0} events ({archived / clock.Elapsed.TotalSeconds:N0}/s)"));
            },
            null, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
        try
        {
            var results = new List<(int Shard, long Archived, double Seconds, string? Reached)>(archives.Count);
            foreach (var (shard, archive, partitions) in archives)
            {
                var started = clock.Elapsed.TotalSeconds;
                var archived = await archive.CatchUpAsync(partitions, cancellationToken);
                var seconds = clock.Elapsed.TotalSeconds - started;
                var positions = await HistoryArchive.ReachedAsync(shards.DataSource(shard), CancellationToken.None);
                if (partitions is not null)
                {
                    positions = LogPositions.Of(positions.Where(p => partitions.Owned.Contains(p.Key)));
                }
                // One partition's position alone, as "commit/position"; several as "partition:commit/position …".
                var reached = positions.Count switch { 0 => null, 1 => positions.First().Value.ToString(), _ => positions.ToString() };
                results.Add((shard, archived, seconds, reached));
            }
            if (results is [var single])
            {
                context.Print(new { archived = single.Archived, seconds = single.Seconds, reaches = single.Reached }, () => Console.WriteLine(Line(single.Archived, single.Seconds, single.Reached)));
            }
            else
            {
                context.Print(results.Select(r => new { shard = r.Shard, archived = r.Archived, seconds = r.Seconds, reaches = r.Reached }), () =>
                {
                    foreach (var (shard, archived, seconds, reached) in results)
                    {
                        Console.WriteLine($"shard {shard}: {Line(archived, seconds, reached)}");
                    }
                });
            }
            return 0;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Console.WriteLine($"Interrupted after {archives.Sum(a => a.Archive.Archived):N0} events. Run the same command again to continue.");
            return 130;
        }
    }

    static string Line(long archived, double seconds, string? reached) => string.Create(CultureInfo.InvariantCulture,
        $"archived {archived:N0} events in {seconds:0.0} s ({archived / Math.Max(seconds, 0.001):N0}/s); the archive reaches {reached}");
}
