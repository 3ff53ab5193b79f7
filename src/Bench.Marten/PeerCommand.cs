using System.Diagnostics;
using System.Globalization;
using Marten;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Bench.Marten.Appending;

namespace Streaming.Bench.Marten;

/// <summary>
/// The Marten peer's process, driven by the bench: <c>append</c> applies Marten's schema, prints <c>ready</c>, and
/// runs the writers (and the async daemon, when there is a projection) until it is stopped; <c>rebuild</c> has the
/// daemon rebuild the projection and prints <c>rebuilt EVENTS SECONDS</c>.
/// </summary>
public static class PeerCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var settings = PeerSettings.Parse(args);
        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancellation.Cancel();
        };
        using var logging = LoggerFactory.Create(builder => builder.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning));
        await using var dataSource = PeerStore.DataSource(settings.ConnectionString);
        await using var store = PeerStore.Create(dataSource, settings.Projection, settings.DaemonBatchSize);
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        return settings.Mode == "append"
            ? await AppendAsync(store, settings, logging.CreateLogger("Streaming.Bench.Marten"), cancellation.Token)
            : await RebuildAsync(store, dataSource, settings, logging.CreateLogger("Streaming.Bench.Marten"), cancellation.Token);
    }

    static async Task<int> AppendAsync(IDocumentStore store, PeerSettings settings, ILogger logger, CancellationToken cancellationToken)
    {
        var daemon = settings.Projection == ProjectionChoice.None ? null : await store.BuildProjectionDaemonAsync(logger: logger);
        if (daemon is not null)
        {
            await daemon.StartAllAsync();
        }
        var writers = Enumerable.Range(0, settings.Writers).Select(_ => new SignalAppender(store, settings)).ToList();
        Console.WriteLine("ready");
        try
        {
            await Task.WhenAll(writers.Select(w => Task.Run(() => w.RunAsync(cancellationToken), CancellationToken.None)));
            return 0;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0;
        }
        finally
        {
            if (daemon is not null)
            {
                await daemon.StopAllAsync();
                daemon.Dispose();
            }
        }
    }

    static async Task<int> RebuildAsync(IDocumentStore store, NpgsqlDataSource dataSource, PeerSettings settings, ILogger logger, CancellationToken cancellationToken)
    {
        using var daemon = await store.BuildProjectionDaemonAsync(logger: logger);
        var clock = Stopwatch.StartNew();
        await daemon.RebuildProjectionAsync(PeerStore.ProjectionName(settings.Projection), TimeSpan.FromMinutes(30), cancellationToken);
        var elapsed = clock.Elapsed;
        await using var count = dataSource.CreateCommand($"select count(*) from {PeerStore.Schema}.mt_events");
        var events = Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rebuilt {events} {elapsed.TotalSeconds:0.000}"));
        return 0;
    }
}
