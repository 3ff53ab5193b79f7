using System.Diagnostics;

namespace Streaming.Tests.Infrastructure;

/// <summary>The <c>streaming</c> command-line tool, run as a process the way an operator runs it.</summary>
public static class StreamingTool
{
    static readonly string Dll = Path.Combine(RepositoryRoot.Path, "src", "Cli", "bin", "Release", "net10.0", "linux-x64", "streaming.dll");

    /// <summary>
    /// Runs it on the store at <paramref name="connectionString"/> (<c>--connection</c>), with <paramref name="environment"/>
    /// set and the API's and the store's variables otherwise unset, so nothing leaks in from the machine.
    /// </summary>
    public static async Task<(int Exit, string Out, string Error)> RunAsync(string connectionString, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment.Remove("STREAMING_API_URL");
        start.Environment.Remove("STREAMING_API_TOKEN");
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        start.Environment.Remove("ConnectionStrings__EventStore");
        start.ArgumentList.Add(Dll);
        foreach (var arg in args.Concat(["--connection", connectionString]))
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }
}
