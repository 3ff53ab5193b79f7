using System.Diagnostics;
using Streaming.Hosting.Supervision;

namespace Streaming.Tests.Infrastructure;

/// <summary>A real process a test starts: its output kept line by line, waited on with deadlines, stopped by signal.</summary>
public sealed class RunningProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly List<string> _lines = [];

    RunningProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get
        {
            lock (_lines)
            {
                return string.Join(Environment.NewLine, _lines);
            }
        }
    }

    public static RunningProcess Start(string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = workingDirectory ?? RepositoryRoot.Path,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        var running = new RunningProcess(Process.Start(start)!);
        running._process.StandardInput.Close();
        running._process.OutputDataReceived += (_, e) => running.Add(e.Data);
        running._process.ErrorDataReceived += (_, e) => running.Add(e.Data);
        running._process.BeginOutputReadLine();
        running._process.BeginErrorReadLine();
        return running;
    }

    /// <summary>One of the repository's built programs, e.g. <c>Dll("Supervisor")</c>.</summary>
    public static string Dll(string project) =>
        System.IO.Path.Combine(RepositoryRoot.Path, "src", project, "bin", "Release", "net10.0", "linux-x64", $"Streaming.{project}.dll");

    /// <summary>The thin host of one of the services (src/Hosts), e.g. <c>HostDll("Projector")</c>.</summary>
    public static string HostDll(string service) =>
        System.IO.Path.Combine(RepositoryRoot.Path, "src", "Hosts", service, "bin", "Release", "net10.0", "linux-x64", $"Streaming.{service}.Host.dll");

    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        await Eventually.True(() => Task.FromResult(Output.Contains(text, StringComparison.Ordinal) || HasExited), timeout, $"'{text}' in the output");
        if (!Output.Contains(text, StringComparison.Ordinal))
        {
            Assert.Fail($"the process exited ({ExitCode}) before writing '{text}':\n{Output}");
        }
    }

    /// <summary>Waits for the process to end and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the process did not exit within {timeout.TotalSeconds:0} s:\n{Output}");
        }
        return _process.ExitCode;
    }

    public void Signal(int signal) => PosixSignals.Send(_process.Id, signal);

    void Add(string? line)
    {
        if (line is not null)
        {
            lock (_lines)
            {
                _lines.Add(line);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
