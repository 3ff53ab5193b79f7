using System.Diagnostics;

namespace Streaming.Tests.Infrastructure;

/// <summary>
/// One of the services run as its own process (<c>dotnet src/X/bin/.../Streaming.X.dll</c>) from the build the tests
/// came from, configured by environment variables, with its log lines kept so a test can wait for one. Killing it is
/// SIGKILL: nothing of its shutdown runs.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly List<string> _lines = [];
    readonly Lock _lock = new();

    ServiceProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public static ServiceProcess Start(string service, IReadOnlyDictionary<string, string> environment)
    {
        var dll = RunningProcess.HostDll(service);
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} is missing: build the solution in Release first (./test.sh does)");
        }
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        return new ServiceProcess(Process.Start(start) ?? throw new InvalidOperationException($"could not start {dll}"));
    }

    /// <summary>The process's id, for signals other than the kill (SIGSTOP, SIGCONT).</summary>
    public int Id => _process.Id;

    public string Log
    {
        get
        {
            lock (_lock)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    public async Task WaitForLogAsync(string text, TimeSpan timeout)
    {
        await Eventually.True(() => Task.FromResult(Log.Contains(text, StringComparison.Ordinal) || _process.HasExited), timeout, $"the log line '{text}'");
        if (!Log.Contains(text, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"the process exited ({_process.ExitCode}) before logging '{text}':\n{Log}");
        }
    }

    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
    }

    void Keep(string? line)
    {
        if (line is not null)
        {
            lock (_lock)
            {
                _lines.Add(line);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }
}
