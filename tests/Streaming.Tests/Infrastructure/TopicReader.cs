using Confluent.Kafka;

namespace Streaming.Tests.Infrastructure;

/// <summary>Reads a whole topic from its start, every partition, without a consumer group.</summary>
public sealed class TopicReader : IDisposable
{
    readonly IConsumer<byte[]?, byte[]?> _consumer;
    readonly List<ConsumeResult<byte[]?, byte[]?>> _seen = [];

    public TopicReader(string bootstrapServers, string topic, int partitions)
    {
        _consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "test-reader-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
        }).Build();
        _consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
    }

    public IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> Seen => _seen;

    public IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> ReadUntil(
        Func<IReadOnlyList<ConsumeResult<byte[]?, byte[]?>>, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!done(_seen))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"gave up after {timeout.TotalSeconds:0.#} s waiting for {what}; read {_seen.Count} messages");
            }
            if (_consumer.Consume(TimeSpan.FromMilliseconds(100)) is { } result)
            {
                _seen.Add(result);
            }
        }
        return _seen;
    }

    /// <summary>Reads whatever arrives within <paramref name="quiet"/>: for asserting that something did not happen after the system caught up.</summary>
    public IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> Drain(TimeSpan quiet)
    {
        var until = DateTime.UtcNow + quiet;
        while (DateTime.UtcNow < until)
        {
            if (_consumer.Consume(TimeSpan.FromMilliseconds(50)) is { } result)
            {
                _seen.Add(result);
            }
        }
        return _seen;
    }

    public void Dispose()
    {
        _consumer.Close();
        _consumer.Dispose();
    }
}
