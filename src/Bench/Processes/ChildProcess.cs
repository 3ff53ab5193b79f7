using System.Diagnostics;

namespace Streaming.Bench.Processes;

/// <summary>
/// A process the bench measures (the all-in-one process, the Marten peer): its output kept for the report of a failed
/// run, a token cancelled the moment it exits (so a child that dies mid-run ends the run at once instead of leaving
/// the bench waiting), and the whole tree killed on dispose.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly StringWriter _log = new();
    readonly CancellationTokenSource _exited;
    readonly List<(string Line, TaskCompletionSource Seen)> _awaitedLines = [];
    readonly List<(DateTimeOffset At, string Line)> _lines = [];

    ChildProcess(Process process, CancellationToken cancellationToken)
    {
        _process = process;
        _exited = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    }

    public int Id => _process.Id;

    /// <summary>Cancelled when the child exits or the bench is cancelled.</summary>
    public CancellationToken Running => _exited.Token;

    public bool HasExited => _process.HasExited;

    public static ChildProcess Start(string dll, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("dotnet", [dll, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var child = new ChildProcess(process, cancellationToken);
        process.OutputDataReceived += (_, e) => child.Record(e.Data);
        process.ErrorDataReceived += (_, e) => child.Record(e.Data);
        process.Exited += (_, _) => child._exited.Cancel();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits until the child prints <paramref name="line"/> on a line of its own.</summary>
    public async Task WaitForLineAsync(string line, TimeSpan timeout)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_log)
        {
            if (_log.ToString().Split('\n').Any(l => l.TrimEnd('\r') == line))
            {
                return;
            }
            _awaitedLines.Add((line, seen));
        }
        try
        {
            await seen.Task.WaitAsync(timeout, Running);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            throw Failure($"did not print '{line}'", e);
        }
    }

    /// <summary>Waits for the child to end by itself; its exit code must be 0.</summary>
    public async Task WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken).WaitAsync(timeout, cancellationToken);
        if (_process.ExitCode != 0)
        {
            throw Failure($"exited with code {_process.ExitCode}", null);
        }
    }

    /// <summary>The lines the child printed, each with when it arrived, oldest first.</summary>
    public IReadOnlyList<(DateTimeOffset At, string Line)> Lines()
    {
        lock (_log)
        {
            return [.. _lines];
        }
    }

    /// <summary>Kills the child at once (SIGKILL), as a crash would end it.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    public string Output()
    {
        lock (_log)
        {
            return _log.ToString();
        }
    }

    /// <summary>An error that carries the child's output, for a run that failed because of it.</summary>
    public InvalidOperationException Failure(string what, Exception? inner) =>
        new($"{Path.GetFileName(_process.StartInfo.ArgumentList[0])} {what}{(_process.HasExited ? $" (exit code {_process.ExitCode})" : "")}:\n{Output()}", inner);

    void Record(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_log)
        {
            _log.WriteLine(line);
            _lines.Add((DateTimeOffset.UtcNow, line));
            foreach (var awaited in _awaitedLines.Where(a => a.Line == line))
            {
                awaited.Seen.TrySetResult();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync(CancellationToken.None);
        _process.Dispose();
        _exited.Dispose();
    }
}
