using System.Globalization;

namespace Streaming.Chaos;

/// <summary>How big the fault suite's runs are and which scenarios it runs (the long form by default; the test suite runs a short one).</summary>
public sealed record ChaosSettings
{
    public int Seed { get; init; } = 1;

    public int Jobs { get; init; } = 10_000;

    public int SignalsPerJob { get; init; } = 20;

    public int Kills { get; init; } = 20;

    public TimeSpan PostgresOutage { get; init; } = TimeSpan.FromSeconds(10);

    public int Partitions { get; init; } = 12;

    /// <summary>
    /// Processes of each of Ingest, the Projector and the Promoter in the runs with faults (the reference run has one of
    /// each); with more than one, ownership is on and the store has a log partition per topic partition, as under
    /// <c>./run.sh --instances N</c>.
    /// </summary>
    public int Instances { get; init; } = 1;

    /// <summary>Ingest processes in the runs with faults, when not <see cref="Instances"/>.</summary>
    public int? IngestInstances { get; init; }

    /// <summary>
    /// How long the host of a Promoter is down in the takeover run: killed (SIGKILL), and every restart of it killed at
    /// once, for this long; its partitions must be followed by the other Promoters of its shard within
    /// <see cref="TakeoverLimit"/>.
    /// </summary>
    public TimeSpan HostDown { get; init; } = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan TakeoverLimit = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The services' group session timeout (<c>Kafka__ConsumerSessionTimeout</c>): how long a killed member keeps its
    /// partitions. The mock cluster then waits up to a session less 1 s for the others to rejoin.
    /// </summary>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>Processes of <paramref name="service"/> in the runs with faults (a shard's, for the Projector and the Promoter).</summary>
    public int InstancesOf(string service) => service == "ingest" ? IngestInstances ?? Instances : Instances;

    /// <summary>
    /// PostgreSQL clusters the store of the runs with faults is sharded over (the reference run has one): log partition p
    /// on shard p mod S, a Projector and a Promoter set per shard, as under <c>./run.sh --shards S</c>.
    /// </summary>
    public int Shards { get; init; } = 1;

    /// <summary>kills, postgres, broker, bad-input (the reference run comes with the first three).</summary>
    public IReadOnlySet<string> Scenarios { get; init; } = new HashSet<string>(AllScenarios, StringComparer.Ordinal);

    public string RepositoryRoot { get; init; } = "";

    /// <summary>Where the suite's PostgreSQL cluster and the runs' folders go (removed at the end).</summary>
    public string WorkDirectory { get; init; } = "";

    /// <summary>
    /// The scenarios; <c>takeover</c> (a Promoter's host down) runs only with several instances, and only when named
    /// (<c>--only</c>) or with <c>--instances</c> above 1.
    /// </summary>
    public static readonly IReadOnlyList<string> AllScenarios = ["kills", "postgres", "broker", "takeover", "bad-input"];

    public const string Usage = """
        usage: Streaming.Chaos [--seed N] [--jobs N] [--signals-per-job N] [--kills N] [--outage SECONDS] [--instances N] [--ingest-instances N]
                               [--host-down SECONDS] [--session-timeout SECONDS] [--shards S] [--only SCENARIO,...] [--json PATH]
          scenarios: kills, postgres, broker, takeover, bad-input (default: all; all but bad-input are compared with a reference run of the same signals)
          --instances N: the runs with faults run N processes of each service (ownership on), the reference run one
          --ingest-instances N: N Ingest processes instead
          takeover (with N > 1): one Promoter's host down for --host-down seconds (30): its partitions must be followed by
            the other Promoters of its shard within 15 s
          --session-timeout SECONDS: the services' group session (6)
          --shards S: the runs with faults store over S PostgreSQL clusters, N Projectors and N Promoters per shard; the
            PostgreSQL run stops shard 1's cluster alone (the reference run is on one)
        """;

    /// <summary>Applies the command line to these settings; returns the JSON report path, if one was asked for.</summary>
    public static (ChaosSettings Settings, string? Json) Parse(string[] args, ChaosSettings defaults)
    {
        var settings = defaults;
        string? json = null;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Number() => int.Parse(Value(), CultureInfo.InvariantCulture);
            if (args[i] == "--json")
            {
                json = Value();
                continue;
            }
            settings = args[i] switch
            {
                "--seed" => settings with { Seed = Number() },
                "--jobs" => settings with { Jobs = Number() },
                "--signals-per-job" => settings with { SignalsPerJob = Number() },
                "--kills" => settings with { Kills = Number() },
                "--outage" => settings with { PostgresOutage = TimeSpan.FromSeconds(Number()) },
                "--instances" => settings with { Instances = Positive("--instances", Number()) },
                "--ingest-instances" => settings with { IngestInstances = Positive("--ingest-instances", Number()) },
                "--host-down" => settings with { HostDown = TimeSpan.FromSeconds(Positive("--host-down", Number())) },
                "--session-timeout" => settings with { SessionTimeout = TimeSpan.FromSeconds(Positive("--session-timeout", Number())) },
                "--shards" => settings with { Shards = Positive("--shards", Number()) },
                "--only" => settings with { Scenarios = Only(Value()) },
                _ => throw new ArgumentException($"unknown argument '{args[i]}'"),
            };
        }
        if (settings.Shards > settings.Partitions)
        {
            throw new ArgumentException($"--shards {settings.Shards}: each shard holds at least one of the {settings.Partitions} log partitions");
        }
        return (settings, json);
    }

    /// <summary>Whether the store has a log partition per topic partition (several instances share them, shards hold them).</summary>
    public bool PartitionedLog => Instances > 1 || InstancesOf("ingest") > 1 || Shards > 1;

    static int Positive(string flag, int value) => value >= 1 ? value : throw new ArgumentException($"{flag} needs a positive number");

    static HashSet<string> Only(string list)
    {
        var names = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        var unknown = names.Except(AllScenarios).ToList();
        return unknown.Count == 0 ? names : throw new ArgumentException($"unknown scenarios: {string.Join(", ", unknown)}");
    }
}
