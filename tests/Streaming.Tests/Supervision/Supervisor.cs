using System.Text.Json.Nodes;
using Streaming.Hosting.Supervision;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Supervision;

/// <summary>A <c>Streaming.Supervisor</c> process over a procfile written for one test, and what it says in its endpoints file.</summary>
sealed class Supervisor : IAsyncDisposable
{
    readonly bool _ownsFolder;

    Supervisor(TemporaryFolder folder, RunningProcess process, bool ownsFolder)
    {
        Folder = folder;
        Process = process;
        _ownsFolder = ownsFolder;
    }

    public TemporaryFolder Folder { get; }

    public RunningProcess Process { get; }

    public string EndpointsFile => Folder.PathOf("endpoints.json");

    public static Supervisor Start(string procfile, params string[] options)
    {
        var folder = new TemporaryFolder();
        File.WriteAllText(folder.PathOf("test.procfile"), procfile);
        return Start(folder, ownsFolder: true, options);
    }

    /// <summary>A supervisor over the procfile already in <paramref name="folder"/>, which the caller keeps.</summary>
    public static Supervisor Start(TemporaryFolder folder, params string[] options) => Start(folder, ownsFolder: false, options);

    static Supervisor Start(TemporaryFolder folder, bool ownsFolder, string[] options) =>
        new(folder, RunningProcess.Start("dotnet", [RunningProcess.Dll("Supervisor"), "--procfile", folder.PathOf("test.procfile"), "--run-dir", folder.Path, .. options]), ownsFolder);

    public JsonObject? Endpoints() => Hosting.Supervision.EndpointsFile.ReadLive(EndpointsFile);

    public int? Pid(string name) => Endpoints()?["processes"]?[name]?.GetValue<int>();

    /// <summary>Waits until <paramref name="name"/> runs under a pid other than <paramref name="not"/>.</summary>
    public async Task<int> RunningAsync(string name, int? not = null)
    {
        await Eventually.True(
            () => Task.FromResult(Pid(name) is { } pid && pid != not && LiveProcess.IsRunning(pid) || Process.HasExited),
            TimeSpan.FromSeconds(30), $"{name} to run (other than pid {not})");
        Assert.False(Process.HasExited, Process.Output);
        return Pid(name)!.Value;
    }

    public async ValueTask DisposeAsync()
    {
        await Process.DisposeAsync();
        if (_ownsFolder)
        {
            Folder.Dispose();
        }
    }
}
