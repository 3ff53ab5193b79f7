namespace Streaming.Bench.Cpu;

/// <summary>
/// Where a measured run's CPU time went, in seconds, by kind of process: the system under test's process, the
/// PostgreSQL backends serving it, PostgreSQL's own processes (WAL writer, checkpointer, autovacuum, and backends
/// that ended during the run), the backends serving the bench's progress probes, and the bench itself (the producer;
/// for the Marten peer also the broker).
/// </summary>
public sealed record CpuUse(
    double WallSeconds,
    double SystemProcess,
    double PostgresConnections,
    double PostgresBackground,
    double PostgresProbes,
    double Bench,
    long Signals)
{
    public double Total => SystemProcess + PostgresConnections + PostgresBackground + PostgresProbes + Bench;

    /// <summary>Microseconds of CPU per signal, all processes.</summary>
    public double MicrosecondsPerSignal => Signals == 0 ? 0 : Total * 1e6 / Signals;

    /// <summary>How many cores were busy on average.</summary>
    public double CoresBusy => WallSeconds == 0 ? 0 : Total / WallSeconds;

    /// <summary>The same split, in microseconds per signal.</summary>
    public IReadOnlyDictionary<string, double> MicrosecondsPerSignalByKind => new Dictionary<string, double>
    {
        ["systemProcess"] = PerSignal(SystemProcess),
        ["postgresConnections"] = PerSignal(PostgresConnections),
        ["postgresBackground"] = PerSignal(PostgresBackground),
        ["postgresProbes"] = PerSignal(PostgresProbes),
        ["bench"] = PerSignal(Bench),
    };

    public double PerSignal(double seconds) => Signals == 0 ? 0 : seconds * 1e6 / Signals;
}
