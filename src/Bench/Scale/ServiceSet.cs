using System.Globalization;
using System.Text.RegularExpressions;
using Streaming.Bench.Cpu;
using Streaming.Bench.Processes;
using Streaming.EventStore;
using Streaming.Hosting.Supervision;

namespace Streaming.Bench.Scale;

/// <summary>
/// The services in the shape <c>./run.sh --instances N --shards S</c> gives them, each a child of the bench (no supervisor,
/// so a process killed stays dead): the embedded broker, N Ingest processes over every shard, and per shard N Projectors
/// and N Promoters. As under <c>./run.sh</c>, the store has a log partition per <c>job-signals</c> partition, each copy
/// gets its index in <c>STREAMING_INSTANCE</c>, and with N &gt; 1 each role's copies share the partitions through its group.
/// </summary>
public sealed partial class ServiceSet : IAsyncDisposable
{
    const string OwnershipCategory = "Streaming.Projections.Ownership";

    readonly List<ServiceProcess> _processes = [];
    readonly string _announcement;
    readonly ShardMap _shards;

    ServiceSet(string announcement, int shards)
    {
        _announcement = announcement;
        _shards = new ShardMap(shards, ScaleSettings.Partitions);
    }

    public string BootstrapServers { get; private set; } = "";

    /// <summary>The broker first, then every service process.</summary>
    public IReadOnlyList<ServiceProcess> Processes => _processes;

    public IEnumerable<ServiceProcess> Role(string role) => _processes.Where(p => p.Role == role);

    public static async Task<ServiceSet> StartAsync(ServiceExecutables executables, IReadOnlyList<string> shards, int instances, CancellationToken cancellationToken)
    {
        var set = new ServiceSet(Path.Combine(Path.GetTempPath(), $"streaming-scale-bench-broker-{Environment.ProcessId}.json"), shards.Count);
        try
        {
            await set.StartProcessesAsync(executables, shards, instances, cancellationToken);
            return set;
        }
        catch
        {
            await set.DisposeAsync();
            throw;
        }
    }

    async Task StartProcessesAsync(ServiceExecutables executables, IReadOnlyList<string> shards, int instances, CancellationToken cancellationToken)
    {
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__EventStore"] = shards[0],
            ["Store__LogPartitions"] = ScaleSettings.Partitions.ToString(CultureInfo.InvariantCulture),
            ["Serilog__MinimumLevel__Default"] = "Warning",
            // The groups' assignments: what the takeover is read from, and what says the shares have settled.
            [$"Serilog__MinimumLevel__Override__{OwnershipCategory}"] = "Information",
        };
        // As ./run.sh sets them, unless the bench's own environment does.
        foreach (var (variable, value) in ServiceRuntime.Environment)
        {
            environment[variable] = value;
        }
        if (shards.Count > 1)
        {
            environment["Store__Shards"] = shards.Count.ToString(CultureInfo.InvariantCulture);
            for (var s = 1; s < shards.Count; s++)
            {
                environment[$"ConnectionStrings__EventStoreShard{s}"] = shards[s];
            }
        }
        File.Delete(_announcement);
        var broker = ChildProcess.Start(executables.Embedded, ["broker"],
            new Dictionary<string, string>(environment) { [Announcement.FileVariable] = _announcement }, cancellationToken);
        _processes.Add(new ServiceProcess("broker", "broker", 0, broker));
        var announced = await WaitForAnnouncementAsync(broker, cancellationToken);
        BootstrapServers = announced.Environment["Kafka__BootstrapServers"];
        foreach (var (name, value) in announced.Environment)
        {
            environment[name] = value;
        }
        if (instances > 1)
        {
            environment["Projector__Ownership__Enabled"] = "true";
            environment["Promoter__Ownership__Enabled"] = "true";
        }
        for (var i = 1; i <= instances; i++)
        {
            Start("ingest", executables.Ingest, shard: null, i, instances, environment, cancellationToken);
        }
        foreach (var (role, dll) in new[] { ("projector", executables.Projector), ("promoter", executables.Promoter) })
        {
            for (var s = 0; s < shards.Count; s++)
            {
                for (var i = 1; i <= instances; i++)
                {
                    Start(role, dll, shards.Count > 1 ? s : null, i, instances, environment, cancellationToken);
                }
            }
        }
    }

    void Start(string role, string dll, int? shard, int instance, int instances, Dictionary<string, string> environment, CancellationToken cancellationToken)
    {
        var name = role + (shard is { } s ? $"-shard{s}" : "") + (instances > 1 ? $"-{instance}" : "");
        var own = new Dictionary<string, string>(environment) { [SupervisedInstance.Variable] = instance.ToString(CultureInfo.InvariantCulture) };
        if (shard is { } served)
        {
            own["Store__Shard"] = served.ToString(CultureInfo.InvariantCulture);
        }
        _processes.Add(new ServiceProcess(name, role, shard ?? 0, ChildProcess.Start(dll, [], own, cancellationToken)));
    }

    async Task<Announcement> WaitForAnnouncementAsync(ChildProcess broker, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            try
            {
                if (Announcement.Read(_announcement) is { } announced)
                {
                    return announced;
                }
            }
            catch (System.Text.Json.JsonException)
            {
                // Written whole by a rename; a read that met it half-way tries again.
            }
            if (broker.HasExited || DateTime.UtcNow > deadline)
            {
                throw broker.Failure("did not announce its bootstrap servers", null);
            }
            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>A source cancelled when <paramref name="cancellationToken"/> is, or when any service process exits but those named.</summary>
    public CancellationTokenSource WatchExits(CancellationToken cancellationToken, params string[] except) =>
        CancellationTokenSource.CreateLinkedTokenSource([cancellationToken, .. _processes.Where(p => !except.Contains(p.Name)).Select(p => p.Child.Running)]);

    /// <summary>Throws, with its output, when a service process has exited (none should while measured).</summary>
    public void ThrowIfOneExited(params string[] except)
    {
        if (_processes.FirstOrDefault(p => p.Child.HasExited && !except.Contains(p.Name)) is { } exited)
        {
            throw exited.Child.Failure($"({exited.Name}) exited during the run", null);
        }
    }

    /// <summary>
    /// With ownership, waits until each group's members together own every partition of their shard (every partition
    /// of the log with one shard; a shard's own and the control partition with several), each by its last assignment
    /// line; without it, there is nothing to wait for.
    /// </summary>
    public async Task WaitForSharesAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        foreach (var group in _processes.Where(p => p.Role is "projector" or "promoter").GroupBy(p => (p.Role, p.Shard)))
        {
            if (group.Count() < 2)
            {
                continue;
            }
            var every = _shards.PartitionsOf(group.Key.Shard).Append(LogPartitioner.ControlPartition).Distinct().Order().ToList();
            while (group.Select(p => Owned(p)).ToList() is var shares
                && (shares.Any(o => o is null) || shares.Sum(o => o!.Count) != every.Count || !shares.SelectMany(o => o!).Order().SequenceEqual(every)))
            {
                ThrowIfOneExited();
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"the {group.Key.Role}s' group did not share out the {every.Count} partitions within {timeout.TotalSeconds:0} s: "
                        + string.Join("; ", group.Select(p => $"{p.Name} owns {(Owned(p) is { } owned ? string.Join(',', owned) : "nothing said yet")}")));
                }
                await Task.Delay(200, cancellationToken);
            }
        }
    }

    /// <summary>The partitions a Projector or Promoter owns by its last assignment or revocation line (null before the first).</summary>
    public static IReadOnlyList<int>? Owned(ServiceProcess process, DateTimeOffset? before = null)
    {
        var last = process.Child.Lines().LastOrDefault(l => (before is null || l.At < before) && l.Line.Contains("this instance owns", StringComparison.Ordinal));
        if (last.Line is null)
        {
            return null;
        }
        var owned = last.Line[(last.Line.LastIndexOf("this instance owns", StringComparison.Ordinal) + "this instance owns".Length)..];
        return [.. Numbers().Matches(owned).Select(m => int.Parse(m.Value, CultureInfo.InvariantCulture))];
    }

    /// <summary>Each process's peak resident set so far (<c>VmHWM</c>), 0 for one that has gone.</summary>
    public Dictionary<string, long> PeakRss() => _processes.ToDictionary(p => p.Name, p => Procfs.PeakRssBytes(p.Child.Id));

    /// <summary>Each process's resident set now (<c>VmRSS</c>): what it holds, beside its peak.</summary>
    public Dictionary<string, long> Rss() => _processes.ToDictionary(p => p.Name, p => Procfs.RssBytes(p.Child.Id));

    public async ValueTask DisposeAsync()
    {
        // The services first, then the broker they talk to.
        foreach (var process in Enumerable.Reverse(_processes))
        {
            await process.Child.DisposeAsync();
        }
        File.Delete(_announcement);
    }

    [GeneratedRegex("[0-9]+")]
    private static partial Regex Numbers();
}
