using System.Globalization;

namespace Streaming.Bench;

/// <summary>The bench command's flags.</summary>
public sealed record BenchSettings(
    string ConnectionString,
    string EmbeddedDll,
    string? MartenDll,
    string OutputFile,
    int Runs,
    int LimitMessages,
    int NaiveMessages,
    int PipelineMessages,
    int MartenMessages,
    bool Large,
    bool Marten,
    bool MartenAggregate,
    bool SurfaceOnly)
{
    static readonly string[] Switches = ["no-marten", "no-marten-aggregate", "no-100k"];

    public static BenchSettings Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var switches = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"unexpected '{args[i]}'");
            }
            var name = args[i][2..];
            if (Switches.Contains(name))
            {
                switches.Add(name);
            }
            else if (i + 1 < args.Length)
            {
                values[name] = args[++i];
            }
            else
            {
                throw new ArgumentException($"--{name} needs a value");
            }
        }
        string Required(string name) => values.TryGetValue(name, out var v) ? v : throw new ArgumentException($"--{name} is required");
        int Number(string name, int fallback, int least)
        {
            var number = values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
            return number >= least ? number : throw new ArgumentException($"--{name} must be at least {least}");
        }
        var marten = !switches.Contains("no-marten");
        var settings = new BenchSettings(
            Required("postgres"),
            Required("embedded"),
            marten ? Required("marten") : values.GetValueOrDefault("marten"),
            values.GetValueOrDefault("output", "artifacts/bench/bench.json"),
            Number("runs", 1, 1),
            Number("limit-messages", 500_000, 1),
            Number("naive-messages", 20_000, 1),
            Number("pipeline-messages", 1_000_000, 1),
            Number("marten-messages", 300_000, 1),
            !switches.Contains("no-100k"),
            marten,
            marten && !switches.Contains("no-marten-aggregate"),
            values.GetValueOrDefault("surface-only") == "true");
        var unknown = values.Keys.Except(["postgres", "embedded", "marten", "output", "runs", "limit-messages", "naive-messages", "pipeline-messages", "marten-messages", "surface-only"]).ToList();
        return unknown.Count == 0 ? settings : throw new ArgumentException($"unknown flag --{unknown[0]}");
    }
}
