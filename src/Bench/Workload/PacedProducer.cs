using Confluent.Kafka;

namespace Streaming.Bench.Workload;

/// <summary>
/// Produces the workload as fast as the system under test stores it, never more than
/// <see cref="MaxUnstoredPerPartition"/> messages ahead of it on any partition: the embedded broker keeps 5 MB a
/// partition (about 18,000 signals of the workload's size), and consumers can fall behind unevenly, so a bound on the
/// total would still let one partition outrun retention.
/// </summary>
/// <param name="storedOffsets">The next offset the system will consume, per partition, as far as it has stored.</param>
public sealed class PacedProducer(string bootstrapServers, string topic, Func<CancellationToken, Task<IReadOnlyDictionary<int, long>>> storedOffsets)
{
    public const long MaxUnstoredPerPartition = 10_000;

    // Per partition, over every call: a later call's messages come on top of what earlier ones delivered.
    readonly long[] _delivered = new long[256];
    long _produced;

    /// <summary>
    /// Produces the workload's messages <paramref name="first"/> up to <paramref name="first"/> + <paramref name="messages"/>,
    /// or fewer when <paramref name="duration"/> passes first; returns how many it produced (all of them delivered).
    /// </summary>
    public async Task<long> ProduceAsync(SignalWorkload workload, long messages, CancellationToken cancellationToken, long first = 0, TimeSpan? duration = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            LingerMs = 10,
            EnableIdempotence = true,
            Partitioner = Partitioner.Murmur2Random,
        }).Build();
        var delivered = _delivered;
        long n = 0;
        for (; n < messages && (duration is null || clock.Elapsed < duration); n++)
        {
            if (n % 2_000 == 0)
            {
                while (await AheadAsync(delivered, _produced + n, cancellationToken) > MaxUnstoredPerPartition)
                {
                    await Task.Delay(20, cancellationToken);
                }
            }
            var (key, value) = workload.Message(first + n);
            while (true)
            {
                try
                {
                    producer.Produce(topic, new Message<string, byte[]> { Key = key, Value = value },
                        report => Interlocked.Increment(ref delivered[report.Partition.Value]));
                    break;
                }
                catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    producer.Poll(TimeSpan.FromMilliseconds(10));
                }
            }
        }
        producer.Flush(TimeSpan.FromMinutes(1));
        _produced += n;
        return n;
    }

    // The most any partition's delivered messages are ahead of what the system stored, counting every message still in flight.
    async Task<long> AheadAsync(long[] delivered, long produced, CancellationToken cancellationToken)
    {
        var stored = await storedOffsets(cancellationToken);
        long ahead = 0, inFlight = produced;
        for (var partition = 0; partition < delivered.Length; partition++)
        {
            var sent = Interlocked.Read(ref delivered[partition]);
            inFlight -= sent;
            ahead = Math.Max(ahead, sent - stored.GetValueOrDefault(partition));
        }
        return ahead + inFlight;
    }
}
