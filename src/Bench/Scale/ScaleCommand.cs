using System.Diagnostics;
using System.Text.Json;
using Spectre.Console;
using Streaming.Hosting;

namespace Streaming.Bench.Scale;

/// <summary>
/// <c>bench scale</c> (issue 22): the services as separate processes, 1, 2 and 3 of each, on a fresh store each time,
/// with throughput, CPU per signal and peak RSS; a Promoter killed and its partitions' takeover timed; a simulated
/// fleet over two shards. Prints the tables and writes JSON.
/// </summary>
static class ScaleCommand
{
    static readonly DateTimeOffset Start = new(2026, 3, 2, 0, 0, 0, TimeSpan.Zero);

    public static async Task<int> RunAsync(string[] args)
    {
        if (args is ["--help"] or ["-h"])
        {
            Console.WriteLine(ScaleSettings.Usage);
            return 0;
        }
        var settings = ScaleSettings.Parse(args);
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = 200;
        }
        using var cancellation = CtrlC.Cancels();
        var token = cancellation.Token;
        var ranAt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var instances = new List<InstancesResult>();
        foreach (var count in settings.Instances)
        {
            AnsiConsole.MarkupLine($"[grey]running[/] {count} instance(s) of each service, {settings.Jobs:N0} jobs, {settings.Seconds} s of backlog …");
            instances.Add(await InstancesRun.RunAsync(settings, count, Start, token));
        }
        TakeoverResult? takeover = null;
        if (settings.Takeover)
        {
            AnsiConsole.MarkupLine($"[grey]running[/] the takeover, {settings.TakeoverInstances} instances of each service, {settings.TakeoverRate:N0} background signals/s …");
            takeover = await TakeoverRun.RunAsync(settings, Start, token);
        }
        FleetResult? fleet = null;
        if (settings.Fleet)
        {
            AnsiConsole.MarkupLine($"[grey]running[/] a fleet of {settings.FleetJobs:N0} jobs over {settings.ShardConnectionStrings.Count} shards, {settings.FleetInstances} instance(s) of each service …");
            fleet = await FleetRun.RunAsync(settings, Start, token);
        }
        var report = ScaleReport.Create(
            $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB",
            string.Join(' ', ["./bench.sh scale", .. UserFlags(args)]),
            ranAt, clock.Elapsed, instances, takeover, fleet);
        report.Print();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(settings.OutputFile))!);
        await File.WriteAllTextAsync(settings.OutputFile, JsonSerializer.Serialize(report, BenchReport.JsonOptions), token);
        AnsiConsole.MarkupLine($"{clock.Elapsed.TotalMinutes:0.0} minutes; JSON written to [bold]{Markup.Escape(settings.OutputFile)}[/]");
        return report.Valid ? 0 : 1;
    }

    // The flags given to bench.sh, without the paths it supplies itself.
    static IEnumerable<string> UserFlags(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] is "--postgres" or "--postgres-shard1" or "--embedded" or "--ingest" or "--projector" or "--promoter")
            {
                i++;
            }
            else
            {
                yield return args[i];
            }
        }
    }
}
