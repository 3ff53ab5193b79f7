using System.Globalization;

namespace Streaming.Bench;

/// <summary>The bench command's flags.</summary>
sealed record BenchSettings(string ConnectionString, string EmbeddedDll, string OutputFile, int LimitMessages, int NaiveMessages, int PipelineMessages, bool SurfaceOnly = false)
{
    public static BenchSettings Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"unexpected '{args[i]}'");
            }
            values[args[i][2..]] = args[i + 1];
        }
        string Required(string name) => values.TryGetValue(name, out var v) ? v : throw new ArgumentException($"--{name} is required");
        int Number(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        return new BenchSettings(
            Required("postgres"),
            Required("embedded"),
            values.GetValueOrDefault("output", "artifacts/bench/bench.json"),
            Number("limit-messages", 500_000),
            Number("naive-messages", 20_000),
            Number("pipeline-messages", 1_000_000),
            values.GetValueOrDefault("surface-only") == "true");
    }
}
