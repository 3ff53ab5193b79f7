using System.Globalization;

namespace Streaming.Bench.Scale;

/// <summary>The <c>scale</c> mode's flags (<c>./bench.sh scale --help</c>).</summary>
public sealed record ScaleSettings(
    IReadOnlyList<string> ShardConnectionStrings,
    ServiceExecutables Executables,
    string OutputFile,
    IReadOnlyList<int> Instances,
    int Jobs,
    int Seconds,
    bool Takeover,
    int TakeoverInstances,
    int TakeoverRate,
    int TakeoverSeconds,
    bool Fleet,
    int FleetJobs,
    int FleetSeconds,
    int FleetInstances)
{
    /// <summary>The partitions of <c>job-signals</c> and of the store's log; no role can have more instances that own some.</summary>
    public const int Partitions = 12;

    public const string Usage = """
        ./bench.sh scale [--instances 1,2,3] [--jobs 10000] [--seconds 120] [--no-instances]
                         [--takeover-instances 2] [--takeover-rate 2000] [--takeover-seconds 40] [--no-takeover]
                         [--fleet-jobs 1000000] [--fleet-seconds 20] [--fleet-instances 1] [--no-fleet]
                         [--output artifacts/bench/scale.json]
        """;

    public static ScaleSettings Parse(string[] args)
    {
        var flags = new BenchFlags(args, "no-instances", "no-takeover", "no-fleet");
        flags.RefuseUnknown("postgres", "postgres-shard1", "embedded", "ingest", "projector", "promoter", "output", "instances", "jobs", "seconds",
            "takeover-instances", "takeover-rate", "takeover-seconds", "fleet-jobs", "fleet-seconds", "fleet-instances");
        var fleet = !flags.Has("no-fleet");
        var takeoverInstances = flags.Number("takeover-instances", 2, least: 2);
        if (takeoverInstances > Partitions)
        {
            throw new BenchUsageException($"--takeover-instances {takeoverInstances}: at most {Partitions}, the partitions a group shares out");
        }
        // The values first, so that a wrong one is named before a missing path (which ./bench.sh supplies).
        var instances = flags.Has("no-instances")
            ? flags.Text("instances") is null ? [] : throw new BenchUsageException("--no-instances and --instances do not go together")
            : ParseInstances(flags.Text("instances", "1,2,3"));
        var jobs = flags.Number("jobs", 10_000, least: 1);
        var seconds = flags.Number("seconds", 120, least: 1);
        var takeoverRate = flags.Number("takeover-rate", 2_000, least: 1);
        var takeoverSeconds = flags.Number("takeover-seconds", 40, least: 10);
        var fleetJobs = flags.Number("fleet-jobs", 1_000_000, least: 1);
        var fleetSeconds = flags.Number("fleet-seconds", 20, least: 0);
        var fleetInstances = flags.Number("fleet-instances", 1, least: 1);
        if (fleetInstances > Partitions)
        {
            throw new BenchUsageException($"--fleet-instances {fleetInstances}: at most {Partitions}, the partitions a group shares out");
        }
        return new ScaleSettings(
            fleet ? [flags.Required("postgres"), flags.Required("postgres-shard1")] : [flags.Required("postgres")],
            new ServiceExecutables(flags.Required("embedded"), flags.Required("ingest"), flags.Required("projector"), flags.Required("promoter")),
            flags.Text("output", "artifacts/bench/scale.json"),
            instances,
            jobs,
            seconds,
            !flags.Has("no-takeover"),
            takeoverInstances,
            takeoverRate,
            takeoverSeconds,
            fleet,
            fleetJobs,
            fleetSeconds,
            fleetInstances);
    }

    /// <summary><c>--instances</c>: a comma-separated list of distinct instance counts, each 1 to <see cref="Partitions"/>.</summary>
    public static IReadOnlyList<int> ParseInstances(string text)
    {
        var counts = new List<int>();
        foreach (var part in text.Split(','))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1 || count > Partitions)
            {
                throw new BenchUsageException($"--instances takes instance counts from 1 to {Partitions} separated by commas (e.g. 1,2,3), not '{text}'");
            }
            if (counts.Contains(count))
            {
                throw new BenchUsageException($"--instances names {count} twice in '{text}'");
            }
            counts.Add(count);
        }
        return counts;
    }
}
