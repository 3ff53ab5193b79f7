using Confluent.Kafka;
using Streaming.Contracts;
using Streaming.Contracts.Json;
using Streaming.Contracts.Signals;

namespace Streaming.Bench.Delivery;

/// <summary>
/// A job whose promotion is timed: 30 minutes of clean signals in shadow (the soak), then, once they are in, the signal
/// of minute 30 that completes it. That signal decides the promotion; its produce call starts the clock.
/// </summary>
public sealed class ProbeJob(string jobId, DateTimeOffset start)
{
    public const int DecidingSeq = 31;

    public string JobId { get; } = jobId;

    public DateTimeOffset? DecidingProducedAt { get; private set; }

    public void ProduceSoak(IProducer<string, byte[]> producer)
    {
        for (var minute = 0; minute < DecidingSeq - 1; minute++)
        {
            Produce(producer, minute);
        }
        producer.Flush(TimeSpan.FromSeconds(10));
    }

    public void ProduceDecidingSignal(IProducer<string, byte[]> producer)
    {
        DecidingProducedAt = DateTimeOffset.UtcNow;
        Produce(producer, DecidingSeq - 1);
        producer.Flush(TimeSpan.FromSeconds(10));
    }

    void Produce(IProducer<string, byte[]> producer, int minute)
    {
        var signal = new JobSignal(
            JobSignal.SchemaV1, JobId, start.AddMinutes(minute), minute + 1, "shadow",
            new Dictionary<string, double> { ["checksum_mismatch_rate"] = 0.0001, ["landing_latency_p95_ms"] = 800, ["error_rate"] = 0.001 },
            new Dictionary<string, string> { ["team"] = "probes" }, $"{JobId}:{minute + 1}");
        producer.Produce(Topics.Signals, new Message<string, byte[]> { Key = JobId, Value = ContractsJson.SerializeToUtf8(signal) });
    }
}
