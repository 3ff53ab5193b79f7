using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Streaming.Hosting.Logging;
using Streaming.Projections.History;

namespace Streaming.Cli.Commands;

/// <summary>
/// <c>streaming archive</c>: brings the history archive up to the log once and exits, as the Projector does
/// continuously; for a store no Projector has followed (a restored or bulk-loaded one). Ctrl-C stops it, keeping every
/// block written; running it again continues.
/// </summary>
public static class ArchiveCommand
{
    public static async Task<int> RunAsync(CommandContext context, CancellationToken cancellationToken)
    {
        using var loggers = StreamingLogging.ForCommandLine();
        var dataSource = await context.StoreAsync(cancellationToken);
        var archive = new HistoryArchive(dataSource, loggers.CreateLogger<HistoryArchive>());
        var clock = Stopwatch.StartNew();
        using var progress = new Timer(
            _ => Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"archived {archive.Archived:N0} events ({archive.Archived / clock.Elapsed.TotalSeconds:N0}/s)")),
            null, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
        try
        {
            var archived = await archive.CatchUpAsync(cancellationToken);
            var seconds = clock.Elapsed.TotalSeconds;
            var positions = await HistoryArchive.ReachedAsync(dataSource, CancellationToken.None);
            // One partition's position alone, as "commit/position"; several as "partition:commit/position …".
            var reached = positions.Count switch { 0 => null, 1 => positions.First().Value.ToString(), _ => positions.ToString() };
            context.Print(new { archived, seconds, reaches = reached }, () => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"archived {archived:N0} events in {seconds:0.0} s ({archived / Math.Max(seconds, 0.001):N0}/s); the archive reaches {reached}")));
            return 0;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Console.WriteLine($"Interrupted after {archive.Archived:N0} events. Run the same command again to continue.");
            return 130;
        }
    }
}
