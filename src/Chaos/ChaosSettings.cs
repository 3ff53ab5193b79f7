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

    /// <summary>kills, postgres, broker, bad-input (the reference run comes with the first three).</summary>
    public IReadOnlySet<string> Scenarios { get; init; } = new HashSet<string>(AllScenarios, StringComparer.Ordinal);

    public string RepositoryRoot { get; init; } = "";

    /// <summary>Where the suite's PostgreSQL cluster and the runs' folders go (removed at the end).</summary>
    public string WorkDirectory { get; init; } = "";

    public static readonly IReadOnlyList<string> AllScenarios = ["kills", "postgres", "broker", "bad-input"];

    public const string Usage = """
        usage: Streaming.Chaos [--seed N] [--jobs N] [--signals-per-job N] [--kills N] [--outage SECONDS] [--only SCENARIO,...] [--json PATH]
          scenarios: kills, postgres, broker, bad-input (default: all; the first three are compared with a reference run of the same signals)
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
                "--only" => settings with { Scenarios = Only(Value()) },
                _ => throw new ArgumentException($"unknown argument '{args[i]}'"),
            };
        }
        return (settings, json);
    }

    static HashSet<string> Only(string list)
    {
        var names = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        var unknown = names.Except(AllScenarios).ToList();
        return unknown.Count == 0 ? names : throw new ArgumentException($"unknown scenarios: {string.Join(", ", unknown)}");
    }
}
