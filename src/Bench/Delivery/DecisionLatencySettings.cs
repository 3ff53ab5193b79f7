using System.Globalization;

namespace Streaming.Bench.Delivery;

/// <summary>The flags of <c>bench decision-latency</c>.</summary>
sealed record DecisionLatencySettings(
    string ConnectionString, string EmbeddedDll, Uri RabbitMq, string OutputFile, int Seconds, int Rate, int Jobs, int Probes, int FetchWaitMs)
{
    public static DecisionLatencySettings Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i].StartsWith("--", StringComparison.Ordinal) ? args[i][2..] : throw new ArgumentException($"unexpected '{args[i]}'")] = args[i + 1];
        }
        string Required(string name) => values.TryGetValue(name, out var v) ? v : throw new ArgumentException($"--{name} is required");
        int Number(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        return new DecisionLatencySettings(
            Required("postgres"),
            Required("embedded"),
            new Uri(Required("rabbitmq")),
            values.GetValueOrDefault("output", "artifacts/bench/decision-latency.json"),
            Number("seconds", 60),
            Number("rate", 5000),
            Number("jobs", 10_000),
            Number("probes", 200),
            Number("fetch-wait-ms", 20));
    }
}
