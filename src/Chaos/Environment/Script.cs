using System.Diagnostics;

namespace Streaming.Chaos.Environment;

/// <summary>Runs one of the repository's scripts and returns what it printed; a failure throws with its error output.</summary>
static class Script
{
    public static async Task<string> RunAsync(string repositoryRoot, string script, params string[] arguments)
    {
        var start = new ProcessStartInfo(Path.Combine(repositoryRoot, script))
        {
            WorkingDirectory = repositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not run {script}");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} {string.Join(' ', arguments)} failed with exit code {process.ExitCode}: {await errors}");
        }
        return (await output).Trim();
    }
}
