using Confluent.Kafka;
using Streaming.Contracts.Json;
using Streaming.Contracts.Signals;

namespace Streaming.Tests.Infrastructure;

/// <summary>Builds job histories in event time and produces them like a job would.</summary>
public static class SignalFactory
{
    public static readonly DateTimeOffset Start = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    public static IReadOnlyDictionary<string, double> Good => new Dictionary<string, double>
    {
        ["checksum_mismatch_rate"] = 0.0001,
        ["landing_latency_p95_ms"] = 800,
        ["error_rate"] = 0.001,
    };

    public static IReadOnlyDictionary<string, double> BadChecksums => new Dictionary<string, double>
    {
        ["checksum_mismatch_rate"] = 0.02,
        ["landing_latency_p95_ms"] = 800,
        ["error_rate"] = 0.001,
    };

    public static IReadOnlyDictionary<string, double> Failing => new Dictionary<string, double>
    {
        ["checksum_mismatch_rate"] = 0.0001,
        ["landing_latency_p95_ms"] = 800,
        ["error_rate"] = 0.05,
    };

    public static JobSignal Signal(string jobId, long seq, DateTimeOffset at, string phase, IReadOnlyDictionary<string, double> metrics) =>
        new(JobSignal.SchemaV1, jobId, at, seq, phase, metrics, new Dictionary<string, string> { ["team"] = "tests" }, $"corr-{jobId}-{seq}");

    /// <summary>One signal a minute for <paramref name="minutes"/> minutes from minute <paramref name="fromMinute"/>.</summary>
    public static IEnumerable<JobSignal> Minutes(string jobId, int fromMinute, int minutes, string phase, IReadOnlyDictionary<string, double> metrics) =>
        Enumerable.Range(fromMinute, minutes).Select(m => Signal(jobId, m + 1, Start.AddMinutes(m), phase, metrics));

    public static IProducer<string, byte[]> Producer(string bootstrapServers) =>
        new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            EnableIdempotence = true,
            Partitioner = Partitioner.Murmur2Random,
        }).Build();

    public static void Produce(this IProducer<string, byte[]> producer, IEnumerable<JobSignal> signals, string topic = global::Streaming.Contracts.Topics.Signals)
    {
        foreach (var signal in signals)
        {
            producer.Produce(topic, new Message<string, byte[]> { Key = signal.JobId, Value = ContractsJson.SerializeToUtf8(signal) });
        }
        producer.Flush(TimeSpan.FromSeconds(30));
    }
}
