using System.Text.Json;
using Streaming.Chaos;

ChaosSettings settings;
string? json;
try
{
    (settings, json) = ChaosSettings.Parse(args, new ChaosSettings
    {
        RepositoryRoot = RepositoryRoot(),
        WorkDirectory = Path.Combine(Path.GetTempPath(), $"streaming-chaos-{Environment.ProcessId}"),
    });
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine($"Streaming.Chaos: {e.Message}{Environment.NewLine}{ChaosSettings.Usage}");
    return 2;
}

using var cancellation = Streaming.Hosting.CtrlC.Cancels();
ChaosReport report;
try
{
    report = await ChaosSuite.RunAsync(settings, line => Console.WriteLine(line), cancellation.Token);
}
catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
{
    // Interrupted (Ctrl-C or SIGTERM): what the suite started is stopped and removed on the way out.
    Console.Error.WriteLine("Streaming.Chaos: interrupted; the servers and services it started are stopped");
    return 130;
}
Console.WriteLine();
Console.WriteLine(report.Render());
if (json is not null)
{
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(json))!);
    await File.WriteAllTextAsync(json, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
}
return report.Passed ? 0 : 1;

static string RepositoryRoot()
{
    for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
    {
        if (File.Exists(Path.Combine(directory.FullName, "Streaming.sln")))
        {
            return directory.FullName;
        }
    }
    throw new InvalidOperationException("Streaming.sln not found above " + AppContext.BaseDirectory);
}
