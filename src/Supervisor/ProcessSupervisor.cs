using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Streaming.Hosting.Supervision;

namespace Streaming.Supervisor;

/// <summary>
/// Starts the processes of a procfile in order and keeps them running. A process that fails (a non-zero exit or a
/// signal) is restarted after a backoff; one that fails more than <see cref="SupervisorOptions.MaxRestarts"/> times within
/// the restart window makes the supervisor give up: it stops everything and exits <see cref="GaveUp"/>. A process marked
/// <c>ready</c> holds back the ones after it until it has announced itself (<see cref="Announcement"/>); they run with
/// the environment it announced, so when it restarts they are stopped first and started again after it. A process
/// that exits 0 has finished and is left alone. The endpoints file holds every announcement, the supervisor's pid
/// and each process's pid; it is removed when the supervisor stops.
/// </summary>
public sealed class ProcessSupervisor(SupervisorOptions options, IReadOnlyList<ProcfileEntry> entries, SupervisorLog log)
{
    public const int GaveUp = 1;
    public const int Refused = 2;

    readonly List<Slot> _slots = entries.Where(e => !options.Without.Any(pattern => Matches(pattern, e.Name)))
        .Select(e => new Slot(e, new RestartPolicy(options.MaxRestarts, options.RestartWindow))).ToList();
    readonly Channel<SupervisedChild> _exits = Channel.CreateUnbounded<SupervisedChild>();
    readonly string _workingDirectory = Path.GetDirectoryName(options.ProcfilePath)!;
    readonly string _announceDirectory = Path.Combine(options.RunDirectory, "announce");
    bool _started;

    /// <summary>Runs until <paramref name="stop"/> fires (then stops every process, <paramref name="force"/> killing them at once) or it gives up.</summary>
    public async Task<int> RunAsync(CancellationToken stop, CancellationToken force)
    {
        try
        {
            if (EndpointsFile.Claim(options.EndpointsFile) is { } stale)
            {
                log.Info($"removed a stale {options.EndpointsFile} (written by process {stale.Pid}, which is gone)");
            }
        }
        catch (InvalidOperationException e)
        {
            log.Info($"refusing to start: {e.Message}");
            return Refused;
        }
        try
        {
            var outcome = await StartFromAsync(0, stop);
            _started = true;
            WriteEndpoints();
            while (outcome is null)
            {
                outcome = await StepAsync(stop);
            }
            return outcome.Value;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return 0;
        }
        finally
        {
            await StopAllAsync(force);
            EndpointsFile.RemoveIfOwned(options.EndpointsFile);
        }
    }

    // Handles the next exit, or the next restart that is due; an exit code when the supervisor is done.
    async Task<int?> StepAsync(CancellationToken stop)
    {
        var due = _slots.Where(s => s.RestartAt is not null).MinBy(s => s.RestartAt);
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(stop);
        if (due is not null)
        {
            timer.CancelAfter(TimeSpan.FromTicks(Math.Max(0, (due.RestartAt!.Value - DateTime.UtcNow).Ticks)));
        }
        SupervisedChild exited;
        try
        {
            exited = await _exits.Reader.ReadAsync(timer.Token);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested && due is not null)
        {
            due.RestartAt = null;
            return await StartFromAsync(_slots.IndexOf(due), stop);
        }
        return await OnExitedAsync(exited, stop);
    }

    async Task<int?> OnExitedAsync(SupervisedChild child, CancellationToken stop)
    {
        // Processes stopped on purpose, or whose end was handled while waiting for their announcement, are no slot's current one.
        if (_slots.FirstOrDefault(s => s.Current == child) is not { } slot)
        {
            return null;
        }
        stop.ThrowIfCancellationRequested();
        var code = await child.Exited;
        Release(slot);
        if (code == 0)
        {
            log.Info($"{slot.Entry.Name} (pid {child.Pid}) finished (exit code 0); not restarted");
            slot.Finished = true;
            return _slots.All(s => s.Finished) ? 0 : null;
        }
        var outcome = Failed(slot, $"{slot.Entry.Name} (pid {child.Pid}) {PosixSignals.Describe(code)}");
        if (outcome is null && slot.Entry.Ready)
        {
            await StopAfterAsync(_slots.IndexOf(slot), $"{slot.Entry.Name} is down", stop);
        }
        return outcome;
    }

    // Starts every process from `from` on that is neither running, nor finished, nor waiting for its restart; a process
    // marked ready must announce itself before the ones after it start.
    async Task<int?> StartFromAsync(int from, CancellationToken stop)
    {
        for (var i = from; i < _slots.Count; i++)
        {
            var slot = _slots[i];
            if (slot.Current is not null || slot.Finished || slot.RestartAt is not null)
            {
                continue;
            }
            var child = Start(slot, i);
            if (!slot.Entry.Ready)
            {
                continue;
            }
            var (announcement, failure) = await WaitForAnnouncementAsync(child, stop);
            if (announcement is null)
            {
                Release(slot);
                return Failed(slot, failure!);
            }
            slot.Announced = announcement;
            log.Info($"{slot.Entry.Name} is ready");
        }
        WriteEndpoints();
        return null;
    }

    SupervisedChild Start(Slot slot, int index)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var earlier in _slots.Take(index))
        {
            foreach (var (name, value) in earlier.Announced?.Environment ?? new Dictionary<string, string>())
            {
                environment[name] = value;
            }
        }
        var child = SupervisedChild.Start(slot.Entry, _workingDirectory, _announceDirectory, environment, log);
        slot.Current = child;
        log.Info($"started {slot.Entry.Name} (pid {child.Pid}): {slot.Entry.Command}");
        _ = child.Exited.ContinueWith(_ => _exits.Writer.TryWrite(child), TaskScheduler.Default);
        return child;
    }

    async Task<(Announcement? Announcement, string? Failure)> WaitForAnnouncementAsync(SupervisedChild child, CancellationToken stop)
    {
        var deadline = DateTime.UtcNow + options.ReadyTimeout;
        while (true)
        {
            if (Read(child) is { } announcement)
            {
                return (announcement, null);
            }
            if (child.Exited.IsCompleted)
            {
                // An end seen only after the stop was asked for is the stop's to report, not a failure to restart.
                stop.ThrowIfCancellationRequested();
                return (null, $"{child.Entry.Name} (pid {child.Pid}) {PosixSignals.Describe(await child.Exited)} before it was ready");
            }
            if (DateTime.UtcNow > deadline)
            {
                await child.StopAsync(options.StopTimeout, stop);
                return (null, $"{child.Entry.Name} (pid {child.Pid}) did not announce itself within {options.ReadyTimeout.TotalSeconds:0.#} s");
            }
            await Task.WhenAny(child.Exited, Task.Delay(50, stop));
            stop.ThrowIfCancellationRequested();
        }
    }

    Announcement? Read(SupervisedChild child)
    {
        try
        {
            return Announcement.Read(child.AnnouncementPath);
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException or InvalidDataException or InvalidOperationException)
        {
            log.Info($"{child.Entry.Name}: unreadable announcement ({e.Message}); waiting for a good one");
            return null;
        }
    }

    int? Failed(Slot slot, string what)
    {
        var now = DateTime.UtcNow;
        if (!slot.Policy.Failed(now))
        {
            log.Info($"{what}; it failed {slot.Policy.RecentFailures} times within {Seconds(options.RestartWindow)}: giving up, stopping everything");
            return GaveUp;
        }
        var delay = slot.Policy.NextDelay;
        slot.RestartAt = now + delay;
        log.Info($"{what}; restarting it in {Seconds(delay)} (failure {slot.Policy.RecentFailures} of at most {options.MaxRestarts} within {Seconds(options.RestartWindow)})");
        return null;
    }

    // The processes after a ready one run with what it announced: they stop while it is down and start again after it.
    async Task StopAfterAsync(int index, string why, CancellationToken stop)
    {
        for (var i = _slots.Count - 1; i > index; i--)
        {
            var slot = _slots[i];
            slot.RestartAt = null;
            if (slot.Current is { } child)
            {
                log.Info($"stopping {slot.Entry.Name} (pid {child.Pid}): {why}");
                Release(slot);
                await child.StopAsync(options.StopTimeout, stop);
            }
        }
        WriteEndpoints();
    }

    async Task StopAllAsync(CancellationToken force)
    {
        for (var i = _slots.Count - 1; i >= 0; i--)
        {
            if (_slots[i].Current is not { } child)
            {
                continue;
            }
            var announced = _slots[i].Announced is not null;
            Release(_slots[i]);
            if (child.Exited.IsCompleted)
            {
                // A signal to a whole process group, or to the process itself, reached it before the supervisor asked.
                log.Info($"{child.Entry.Name} (pid {child.Pid}) had already stopped ({PosixSignals.Describe(await child.Exited)}, not sent by the supervisor)");
                continue;
            }
            log.Info($"stopping {child.Entry.Name} (pid {child.Pid})");
            var stopped = await child.StopAsync(options.StopTimeout, force);
            var code = await child.Exited;
            log.Info(stopped
                ? Stopped(child, code, announced)
                : force.IsCancellationRequested
                    ? $"{child.Entry.Name} killed: told to stop at once (a second signal)"
                    : $"{child.Entry.Name} did not stop within {Seconds(options.StopTimeout)}: killed");
        }
    }

    // A process ends by the SIGTERM it was sent when it has no handler for it (yet): a service while it is still starting,
    // before its host handles the signal. It was asked to stop and it stopped; that is no failure.
    static string Stopped(SupervisedChild child, int code, bool announced)
    {
        if (code != 128 + PosixSignals.Terminate)
        {
            return $"{child.Entry.Name} stopped ({PosixSignals.Describe(code)})";
        }
        var after = Seconds(DateTime.UtcNow - child.StartedAt);
        return child.Entry.Ready && !announced
            ? $"{child.Entry.Name} stopped before it was ready: the SIGTERM it was sent ended it while it was starting ({after} after its start)"
            : $"{child.Entry.Name} stopped: the SIGTERM it was sent ended it before it handled the signal ({after} after its start)";
    }

    void Release(Slot slot)
    {
        if (slot.Current is { } child)
        {
            log.Closed(child.Entry.Name);
        }
        slot.Current = null;
        slot.Announced = null;
        if (_started)
        {
            WriteEndpoints();
        }
    }

    void WriteEndpoints()
    {
        if (!_started)
        {
            return;
        }
        var content = new JsonObject();
        foreach (var (name, value) in options.Endpoints)
        {
            content[name] = value;
        }
        foreach (var slot in _slots)
        {
            foreach (var (name, value) in slot.Announced?.Endpoints ?? [])
            {
                content[name] = value?.DeepClone();
            }
        }
        var processes = new JsonObject();
        foreach (var slot in _slots.Where(s => s.Current is not null))
        {
            processes[slot.Entry.Name] = slot.Current!.Pid;
        }
        content["processes"] = processes;
        EndpointsFile.Write(options.EndpointsFile, content);
    }

    // A name, or a pattern with '*' standing for any run of characters (sample-*).
    static bool Matches(string pattern, string name) =>
        System.Text.RegularExpressions.Regex.IsMatch(name, "^" + string.Join(".*", pattern.Split('*').Select(System.Text.RegularExpressions.Regex.Escape)) + "$");

    static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.0#", CultureInfo.InvariantCulture) + " s";

    sealed class Slot(ProcfileEntry entry, RestartPolicy policy)
    {
        public ProcfileEntry Entry { get; } = entry;

        public RestartPolicy Policy { get; } = policy;

        public SupervisedChild? Current { get; set; }

        public Announcement? Announced { get; set; }

        public DateTime? RestartAt { get; set; }

        public bool Finished { get; set; }
    }
}
