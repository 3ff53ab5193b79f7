using System.Diagnostics;
using Npgsql;

namespace Streaming.Bench.Cpu;

/// <summary>
/// Measures the CPU a run costs, from the processes' own times in <c>/proc</c>: the system under test's process tree,
/// every PostgreSQL process (told apart with <c>pg_stat_activity</c>), and this process. It samples twice a second,
/// so that a PostgreSQL process that ends during the run is still put down to its kind; what such a process spent
/// after its last sample is known only in sum (its parent's reaped-children time) and is counted as background.
/// </summary>
public sealed class CpuSampler : IAsyncDisposable
{
    /// <summary>The application name of the bench's own connections, so their backends are told apart.</summary>
    public const string BenchApplicationName = "streaming-bench";

    readonly NpgsqlDataSource _probe;
    readonly int[] _systemPids;
    readonly string _database;
    readonly int _postmaster;
    readonly ProcessTicks _postmasterAtStart;
    readonly Dictionary<int, Tracked> _postgres = [];
    readonly Dictionary<int, (long Start, long Last)> _system = [];
    readonly long _benchAtStart;
    readonly Stopwatch _clock = Stopwatch.StartNew();
    readonly CancellationTokenSource _stop = new();
    readonly Task _sampling;

    CpuSampler(NpgsqlDataSource probe, IReadOnlyList<int> systemPids, string database, int postmaster)
    {
        _probe = probe;
        _systemPids = [.. systemPids];
        _database = database;
        _postmaster = postmaster;
        _postmasterAtStart = Procfs.Read(postmaster) ?? throw new InvalidOperationException($"PostgreSQL's postmaster (pid {postmaster}) is not readable in /proc");
        _benchAtStart = Procfs.Read(Environment.ProcessId)!.Value.Own;
        _sampling = SampleUntilStoppedAsync(_stop.Token);
    }

    /// <summary>Starts measuring now. <paramref name="probe"/> connects to the run's PostgreSQL with the bench's application name.</summary>
    public static Task<CpuSampler> StartAsync(NpgsqlDataSource probe, int systemPid, string database, CancellationToken cancellationToken) =>
        StartAsync(probe, [systemPid], database, cancellationToken);

    /// <summary>Starts measuring now a system of several processes (each with its descendants).</summary>
    public static async Task<CpuSampler> StartAsync(NpgsqlDataSource probe, IReadOnlyList<int> systemPids, string database, CancellationToken cancellationToken)
    {
        await using var command = probe.CreateCommand("select pg_backend_pid()");
        var backend = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        var postmaster = Procfs.Read(backend)?.ParentPid ?? throw new InvalidOperationException(
            $"PostgreSQL's processes are not readable in /proc (backend {backend}): the bench must run on PostgreSQL's machine");
        var sampler = new CpuSampler(probe, systemPids, database, postmaster);
        await sampler.SampleAsync(CancellationToken.None);
        return sampler;
    }

    /// <summary>Stops measuring and says where the CPU went.</summary>
    public async Task<CpuUse> StopAsync(long signals)
    {
        await _stop.CancelAsync();
        await _sampling;
        await SampleAsync(CancellationToken.None);
        var wall = _clock.Elapsed.TotalSeconds;
        double Seconds(long ticks) => ticks / Procfs.TicksPerSecond;
        var byKind = _postgres.Values.GroupBy(p => p.Kind ?? Kind.Background).ToDictionary(g => g.Key, g => g.Sum(p => p.Last - p.Start));
        var postmaster = Procfs.Read(_postmaster) ?? _postmasterAtStart;
        // The reaped-children time holds the whole lives of the processes that ended; what they spent before the run
        // or before their last sample was counted already.
        var endedAfterLastSample = postmaster.ReapedChildren - _postmasterAtStart.ReapedChildren - _postgres.Values.Where(p => p.Ended).Sum(p => p.Last);
        var background = byKind.GetValueOrDefault(Kind.Background) + postmaster.Own - _postmasterAtStart.Own + Math.Max(0, endedAfterLastSample);
        return new CpuUse(
            wall,
            Seconds(_system.Values.Sum(p => p.Last - p.Start)),
            Seconds(byKind.GetValueOrDefault(Kind.Connections)),
            Seconds(background),
            Seconds(byKind.GetValueOrDefault(Kind.Probes)),
            Seconds(Procfs.Read(Environment.ProcessId)!.Value.Own - _benchAtStart),
            signals);
    }

    async Task SampleUntilStoppedAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(500, stop);
                await SampleAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    async Task SampleAsync(CancellationToken cancellationToken)
    {
        // A process that was there when measuring began counts from then; one that began later, from its start.
        var first = _postgres.Count == 0;
        // The system's trees: their processes' own time, and that of descendants they reaped (none today).
        foreach (var process in Procfs.Trees(_systemPids))
        {
            var ticks = process.Own + process.ReapedChildren;
            _system[process.Pid] = _system.TryGetValue(process.Pid, out var seen) ? (seen.Start, ticks) : (first ? ticks : 0, ticks);
        }
        var alive = Procfs.Children(_postmaster).ToDictionary(p => p.Pid);
        foreach (var (pid, process) in alive)
        {
            if (_postgres.TryGetValue(pid, out var tracked))
            {
                tracked.Last = process.Own;
            }
            else
            {
                _postgres[pid] = new Tracked(first ? process.Own : 0) { Last = process.Own };
            }
        }
        // A backend is told apart once pg_stat_activity shows whom it serves (not while it starts or authenticates);
        // a process it never lists (the logger, for one) is PostgreSQL's own.
        if (_postgres.Values.Any(p => p.Kind is null && !p.Ended))
        {
            var kinds = await KindsAsync(cancellationToken);
            foreach (var (pid, tracked) in _postgres.Where(p => p.Value.Kind is null && alive.ContainsKey(p.Key)))
            {
                if (kinds.TryGetValue(pid, out var kind))
                {
                    tracked.Kind = kind;
                }
                else if (++tracked.Unlisted > 1)
                {
                    tracked.Kind = Kind.Background;
                }
            }
        }
        foreach (var (pid, tracked) in _postgres)
        {
            tracked.Ended |= !alive.ContainsKey(pid);
        }
    }

    async Task<Dictionary<int, Kind?>> KindsAsync(CancellationToken cancellationToken)
    {
        var kinds = new Dictionary<int, Kind?>();
        await using var command = _probe.CreateCommand(
            "select pid, backend_type, coalesce(datname, ''), coalesce(application_name, '') from pg_stat_activity");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var clientBackend = reader.GetString(1) == "client backend";
            kinds[reader.GetInt32(0)] = !clientBackend ? Kind.Background
                : reader.GetString(2).Length == 0 ? null
                : reader.GetString(3) == BenchApplicationName ? Kind.Probes
                : reader.GetString(2) == _database ? Kind.Connections
                : Kind.Background;
        }
        return kinds;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
        _stop.Dispose();
    }

    enum Kind
    {
        Connections,
        Background,
        Probes,
    }

    sealed class Tracked(long start)
    {
        /// <summary>Null until pg_stat_activity says; a process that ended unknown counts as background.</summary>
        public Kind? Kind { get; set; }

        public long Start { get; } = start;

        public int Unlisted { get; set; }

        public long Last { get; set; }

        public bool Ended { get; set; }
    }
}
