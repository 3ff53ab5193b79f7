using System.Diagnostics;
using System.Text.Json.Nodes;
using Streaming.Hosting.Supervision;

namespace Streaming.Chaos.Environment;

/// <summary>
/// Ingest, Projector and Promoter as real processes, each under <c>Streaming.Supervisor</c> as <c>./run.sh</c> runs
/// them: killed ones are restarted by it. Knows their pids (from the supervisor's endpoints file) and counts the exits
/// the supervisor saw. With several instances each service runs as copies <c>ingest-1</c> .. <c>ingest-N</c>, as under
/// <c>./run.sh --instances N</c>; with several shards the Projector and the Promoter run per shard
/// (<c>projector-shard1</c>, <c>projector-shard1-2</c>, told <c>Store__Shard=1</c>), as under <c>./run.sh --shards S</c>.
/// </summary>
public sealed class SupervisedServices : IAsyncDisposable
{
    public static readonly IReadOnlyList<string> Services = ["ingest", "projector", "promoter"];

    readonly Process _supervisor;
    readonly string _endpointsFile;
    readonly List<string> _lines = [];
    readonly Queue<string> _recent = new();
    readonly List<string> _output = [];

    SupervisedServices(Process supervisor, string endpointsFile)
    {
        _supervisor = supervisor;
        _endpointsFile = endpointsFile;
    }

    /// <summary>The roles Projector and Promoter run once per shard of the store; Ingest runs once over every shard.</summary>
    public static bool RunsPerShard(string service) => service != "ingest";

    /// <summary>
    /// The supervisor's name for copy <paramref name="copy"/> (from 1) of <paramref name="service"/> serving
    /// <paramref name="shard"/>: <c>projector</c>, <c>projector-2</c>, <c>projector-shard1</c>, <c>projector-shard1-2</c>.
    /// </summary>
    public static string ProcessName(string service, int shard, int copy, int instances, int shards) =>
        (shards > 1 && RunsPerShard(service) ? $"{service}-shard{shard}" : service) + (instances > 1 ? $"-{copy}" : "");

    /// <summary>Every process's name under the supervisor, for <paramref name="instancesOf"/> copies of each service over <paramref name="shards"/> shards.</summary>
    public static IReadOnlyList<string> ProcessNames(Func<string, int> instancesOf, int shards) =>
        [.. Services.SelectMany(s => Enumerable.Range(0, shards > 1 && RunsPerShard(s) ? shards : 1)
            .SelectMany(shard => Enumerable.Range(1, instancesOf(s)).Select(copy => ProcessName(s, shard, copy, instancesOf(s), shards))))];

    /// <summary>
    /// Starts the supervisor over the services, <paramref name="instancesOf"/> copies of each (a shard's, for the
    /// Projector and the Promoter).
    /// </summary>
    public static SupervisedServices Start(
        string repositoryRoot, string runDirectory, Func<string, int> instancesOf, int shards, IReadOnlyDictionary<string, string> environment)
    {
        Directory.CreateDirectory(runDirectory);
        var procfile = Path.Combine(runDirectory, "chaos.procfile");
        var lines = Services.SelectMany(s => shards > 1 && RunsPerShard(s)
            ? Enumerable.Range(0, shards).Select(shard => (Name: $"{s}-shard{shard}", Service: s, Command: $"env Store__Shard={shard} dotnet {HostDll(repositoryRoot, Capitalised(s))} {LogLevels}"))
            : [(Name: s, Service: s, Command: $"dotnet {HostDll(repositoryRoot, Capitalised(s))} {LogLevels}")]).ToList();
        File.WriteAllLines(procfile, lines.Select(l => $"{l.Name}: {l.Command}"));
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var argument in new[]
                 {
                     Dll(repositoryRoot, "Supervisor"), "--procfile", procfile, "--run-dir", runDirectory,
                     "--max-restarts", "1000", "--restart-window", "60s", "--stop-timeout", "30s",
                 })
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, service, _) in lines.Where(l => instancesOf(l.Service) > 1))
        {
            start.ArgumentList.Add("--instances");
            start.ArgumentList.Add($"{name}={instancesOf(service)}");
        }
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        var supervisor = Process.Start(start) ?? throw new InvalidOperationException("could not start the supervisor");
        supervisor.StandardInput.Close();
        var services = new SupervisedServices(supervisor, Path.Combine(runDirectory, "endpoints.json"));
        supervisor.OutputDataReceived += (_, e) => services.Record(e.Data);
        supervisor.ErrorDataReceived += (_, e) => services.Record(e.Data);
        supervisor.BeginOutputReadLine();
        supervisor.BeginErrorReadLine();
        return services;
    }

    /// <summary>Exits of the services the supervisor saw and restarted (killed ones included).</summary>
    public int Restarts
    {
        get
        {
            lock (_lines)
            {
                return _lines.Count(l => l.Contains("; restarting it in ", StringComparison.Ordinal));
            }
        }
    }

    /// <summary>What the supervisor said about the services (starts, exits, restarts).</summary>
    public IReadOnlyList<string> SupervisorLines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public bool SupervisorExited => _supervisor.HasExited;

    /// <summary>Every line the processes and the supervisor wrote (the first 100,000).</summary>
    public IReadOnlyList<string> OutputLines
    {
        get
        {
            lock (_lines)
            {
                return [.. _output];
            }
        }
    }

    /// <summary>
    /// The processes (by the supervisor's name for them) whose host has said it started: every hosted service's start
    /// done, the schema of every shard migrated among them.
    /// </summary>
    public IReadOnlySet<string> Started()
    {
        lock (_lines)
        {
            return _output.Where(l => l.Contains(HostStarted, StringComparison.Ordinal)).Select(l => l.Split(' ', 2)[0]).ToHashSet();
        }
    }

    /// <summary>How many lines the processes and the supervisor have written so far (of the first 100,000).</summary>
    public int OutputCount
    {
        get
        {
            lock (_lines)
            {
                return _output.Count;
            }
        }
    }

    /// <summary>The lines <paramref name="process"/> wrote from line <paramref name="from"/> of all output on, without its name.</summary>
    public IReadOnlyList<string> OutputOf(string process, int from = 0)
    {
        lock (_lines)
        {
            return [.. _output.Skip(from).Where(l => l.Split(' ', 2)[0] == process).Select(l => l[(l.IndexOf('|', StringComparison.Ordinal) + 1)..].TrimStart())];
        }
    }

    /// <summary>The last lines every process wrote, for a failure's message.</summary>
    public string RecentOutput()
    {
        lock (_lines)
        {
            return string.Join(System.Environment.NewLine, _recent);
        }
    }

    /// <summary>The pid of a process by the supervisor's name for it (<c>ingest</c>, <c>ingest-2</c> with several instances, <see cref="ProcessName"/>).</summary>
    public int? Pid(string service) =>
        EndpointsFile.ReadLive(_endpointsFile)?["processes"] is JsonObject processes && processes[service] is JsonValue pid
            ? pid.GetValue<int>()
            : null;

    /// <summary>Waits until the service runs with a pid other than <paramref name="not"/>, and returns it.</summary>
    public async Task<int> WaitForPidAsync(string service, int? not, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (Pid(service) is { } pid && pid != not && LiveProcess.IsRunning(pid))
            {
                return pid;
            }
            if (_supervisor.HasExited)
            {
                throw new InvalidOperationException($"the supervisor exited with code {_supervisor.ExitCode}:{System.Environment.NewLine}{RecentOutput()}");
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{service} was not running within {timeout.TotalSeconds:0} s:{System.Environment.NewLine}{RecentOutput()}");
            }
            await Task.Delay(20, cancellationToken);
        }
    }

    /// <summary>kill -9 of the service; returns the pid killed.</summary>
    public async Task<int> KillAsync(string service, CancellationToken cancellationToken)
    {
        var pid = await WaitForPidAsync(service, null, TimeSpan.FromMinutes(1), cancellationToken);
        PosixSignals.Send(pid, PosixSignals.Kill);
        return pid;
    }

    /// <summary>Stops the supervisor as Ctrl-C would and returns its exit code.</summary>
    public async Task<int> StopAsync()
    {
        if (!_supervisor.HasExited)
        {
            PosixSignals.Send(_supervisor.Id, PosixSignals.Terminate);
        }
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await _supervisor.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            _supervisor.Kill(entireProcessTree: true);
            await _supervisor.WaitForExitAsync(CancellationToken.None);
            throw new TimeoutException($"the supervisor did not stop within 2 minutes:{System.Environment.NewLine}{RecentOutput()}");
        }
        return _supervisor.ExitCode;
    }

    void Record(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_lines)
        {
            if (line.StartsWith(SupervisorPrefix, StringComparison.Ordinal))
            {
                _lines.Add(line);
            }
            if (_output.Count < 100_000)
            {
                _output.Add(line);
            }
            _recent.Enqueue(line);
            if (_recent.Count > 200)
            {
                _recent.Dequeue();
            }
        }
    }

    const string SupervisorPrefix = "supervisor";

    const string HostStarted = "Application started.";

    // The host's own lifetime messages and the partition ownership's at Information, whatever the level of the rest
    // (arguments, not the environment, which the supervisor's shell would drop: a name with dots is no shell variable).
    const string LogLevels = "--Serilog:MinimumLevel:Override:Microsoft.Hosting.Lifetime=Information "
        + "--Serilog:MinimumLevel:Override:Streaming.Projections.Ownership=Information";

    static string Dll(string repositoryRoot, string project) =>
        Path.Combine(repositoryRoot, "src", project, "bin", "Release", "net10.0", "linux-x64", $"Streaming.{project}.dll");

    static string HostDll(string repositoryRoot, string service) =>
        Path.Combine(repositoryRoot, "src", "Hosts", service, "bin", "Release", "net10.0", "linux-x64", $"Streaming.{service}.Host.dll");

    static string Capitalised(string service) => char.ToUpperInvariant(service[0]) + service[1..];

    public async ValueTask DisposeAsync()
    {
        if (!_supervisor.HasExited)
        {
            try
            {
                await StopAsync();
            }
            catch (TimeoutException)
            {
            }
        }
        _supervisor.Dispose();
    }
}
