namespace Streaming.Bench.Delivery;

/// <summary>The flags of <c>bench decision-latency</c>.</summary>
sealed record DecisionLatencySettings(
    string ConnectionString, string EmbeddedDll, Uri RabbitMq, string OutputFile, int Seconds, int Rate, int Jobs, int Probes, int FetchWaitMs)
{
    public static DecisionLatencySettings Parse(string[] args)
    {
        var flags = new BenchFlags(args);
        return new DecisionLatencySettings(
            flags.Required("postgres"),
            flags.Required("embedded"),
            Uri.TryCreate(flags.Required("rabbitmq"), UriKind.Absolute, out var rabbitMq) ? rabbitMq : throw new BenchUsageException("--rabbitmq is not an absolute URL"),
            flags.Text("output", "artifacts/bench/decision-latency.json"),
            flags.Number("seconds", 60),
            flags.Number("rate", 5000),
            flags.Number("jobs", 10_000),
            flags.Number("probes", 200),
            // The embedded broker holds a fetch that finds nothing for all of it, where real Kafka answers as soon as data
            // arrives: 2 ms comes closer to that, at the CPU of the empty fetches (README, Decision latency).
            flags.Number("fetch-wait-ms", 2));
    }
}
