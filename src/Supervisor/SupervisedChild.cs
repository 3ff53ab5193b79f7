using System.Diagnostics;
using Streaming.Hosting.Supervision;

namespace Streaming.Supervisor;

/// <summary>
/// One run of a supervised process: started with <c>sh -c 'exec COMMAND'</c> in a session of its own (so a Ctrl-C on
/// the terminal reaches the supervisor alone, which then stops the processes in order), its standard input closed,
/// its output passed to the log line by line.
/// </summary>
public sealed class SupervisedChild : IDisposable
{
    readonly Process _process;

    SupervisedChild(ProcfileEntry entry, Process process, string announcementPath)
    {
        Entry = entry;
        _process = process;
        AnnouncementPath = announcementPath;
        Exited = WaitAsync();
    }

    public ProcfileEntry Entry { get; }

    public int Pid => _process.Id;

    public DateTime StartedAt { get; } = DateTime.UtcNow;

    /// <summary>Where this process writes its announcement.</summary>
    public string AnnouncementPath { get; }

    /// <summary>Completes with the exit code once the process has ended and its output is read.</summary>
    public Task<int> Exited { get; }

    public static SupervisedChild Start(
        ProcfileEntry entry, string workingDirectory, string announceDirectory, IReadOnlyDictionary<string, string> environment, SupervisorLog log)
    {
        Directory.CreateDirectory(announceDirectory);
        var announcement = Path.Combine(announceDirectory, entry.Name + ".json");
        File.Delete(announcement);
        var setsid = File.Exists("/usr/bin/setsid") ? "/usr/bin/setsid" : null;
        var start = new ProcessStartInfo(setsid ?? "/bin/sh")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (setsid is not null)
        {
            start.ArgumentList.Add("/bin/sh");
        }
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec " + entry.Command);
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        start.Environment[Announcement.FileVariable] = announcement;
        start.Environment[SupervisedInstance.Variable] = entry.Instance.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Pass(log, entry.Name, e.Data);
        process.ErrorDataReceived += (_, e) => Pass(log, entry.Name, e.Data);
        process.Start();
        log.Opened(entry.Name, process.Id);
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new SupervisedChild(entry, process, announcement);
    }

    public void Signal(int signal)
    {
        if (!Exited.IsCompleted)
        {
            PosixSignals.SendToGroup(Pid, signal);
        }
    }

    /// <summary>Asks the process to stop (SIGTERM) and kills it (SIGKILL) if it has not within <paramref name="timeout"/> or when <paramref name="force"/> fires.</summary>
    public async Task<bool> StopAsync(TimeSpan timeout, CancellationToken force)
    {
        Signal(PosixSignals.Terminate);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(force);
        deadline.CancelAfter(timeout);
        try
        {
            await Exited.WaitAsync(deadline.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            Signal(PosixSignals.Kill);
            await Exited;
            return false;
        }
    }

    async Task<int> WaitAsync()
    {
        await _process.WaitForExitAsync();
        return _process.ExitCode;
    }

    static void Pass(SupervisorLog log, string name, string? line)
    {
        if (line is not null)
        {
            log.Write(name, line);
        }
    }

    public void Dispose() => _process.Dispose();
}
