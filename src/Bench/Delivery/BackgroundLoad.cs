using System.Diagnostics;
using Confluent.Kafka;
using Streaming.Contracts;
using Streaming.Contracts.Json;
using Streaming.Contracts.Signals;

namespace Streaming.Bench.Delivery;

/// <summary>
/// Signals at a steady rate from many jobs, round robin, one simulated minute apart per job. Their checksums never
/// match, so every signal is stored, projected and evaluated, and none is promoted: load without decisions of its own.
/// </summary>
public sealed class BackgroundLoad(string bootstrapServers, int jobs, int perSecond, DateTimeOffset start)
{
    long _produced;

    public long Produced => Interlocked.Read(ref _produced);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            LingerMs = 5,
            EnableIdempotence = true,
            Partitioner = Partitioner.Murmur2Random,
        }).Build();
        var clock = Stopwatch.StartNew();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                // As many as the rate says by now: a late tick catches up instead of lowering the rate.
                var due = (long)(clock.Elapsed.TotalSeconds * perSecond);
                for (var n = Produced; n < due; n++)
                {
                    var job = (int)(n % jobs);
                    var minute = n / jobs;
                    var jobId = $"background-{job}";
                    var signal = new JobSignal(
                        JobSignal.SchemaV1, jobId, start.AddMinutes(minute), minute + 1, "shadow",
                        new Dictionary<string, double> { ["checksum_mismatch_rate"] = 0.02, ["landing_latency_p95_ms"] = 800, ["error_rate"] = 0.001 },
                        new Dictionary<string, string> { ["team"] = "background" }, null);
                    producer.Produce(Topics.Signals, new Message<string, byte[]> { Key = jobId, Value = ContractsJson.SerializeToUtf8(signal) });
                    Interlocked.Increment(ref _produced);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        producer.Flush(TimeSpan.FromSeconds(30));
    }
}
