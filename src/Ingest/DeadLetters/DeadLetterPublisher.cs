using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Streaming.Hosting.Kafka;

namespace Streaming.Ingest.DeadLetters;

/// <summary>
/// Sends rejected messages to the dead-letter topic with their original key, value and headers, plus headers that say
/// why and where they came from. Returns only when the broker has them, so the source offset can then move past them;
/// a message the broker has not taken within <see cref="DeliveryTimeout"/> fails the call (and Ingest retries the batch).
/// </summary>
public sealed class DeadLetterPublisher(KafkaOptions options) : IDisposable
{
    /// <summary>How long a dead letter may wait for the broker by default (<c>message.timeout.ms</c> overrides it).</summary>
    public static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(30);

    public const string ReasonHeader = "dlq-reason";
    public const string SourceTopicHeader = "dlq-source-topic";
    public const string SourcePartitionHeader = "dlq-source-partition";
    public const string SourceOffsetHeader = "dlq-source-offset";
    public const string RejectedAtHeader = "dlq-rejected-at";

    readonly IProducer<byte[]?, byte[]?> _producer = new ProducerBuilder<byte[]?, byte[]?>(Config(options)).Build();

    public async Task PublishAsync(IReadOnlyList<DeadLetter> letters, CancellationToken cancellationToken)
    {
        if (letters.Count == 0)
        {
            return;
        }
        var deliveries = new Task<DeliveryResult<byte[]?, byte[]?>>[letters.Count];
        for (var i = 0; i < letters.Count; i++)
        {
            deliveries[i] = _producer.ProduceAsync(options.SignalsDeadLetterTopic, ToMessage(letters[i]), cancellationToken);
        }
        await Task.WhenAll(deliveries);
        DeadLetterMetrics.Count(letters);
    }

    // The batch waits for its dead letters with its transaction open: bound the wait far below librdkafka's 5 minutes.
    static ProducerConfig Config(KafkaOptions options)
    {
        var config = KafkaClientConfig.Producer(options, "streaming-ingest-dlq");
        config.MessageTimeoutMs ??= (int)DeliveryTimeout.TotalMilliseconds;
        return config;
    }

    static Message<byte[]?, byte[]?> ToMessage(DeadLetter letter)
    {
        var source = letter.Source;
        var headers = new Headers();
        foreach (var header in source.Message.Headers ?? [])
        {
            headers.Add(header.Key, header.GetValueBytes());
        }
        headers.Add(ReasonHeader, Encoding.UTF8.GetBytes(letter.Reason));
        headers.Add(SourceTopicHeader, Encoding.UTF8.GetBytes(source.Topic));
        headers.Add(SourcePartitionHeader, Encoding.UTF8.GetBytes(source.Partition.Value.ToString(CultureInfo.InvariantCulture)));
        headers.Add(SourceOffsetHeader, Encoding.UTF8.GetBytes(source.Offset.Value.ToString(CultureInfo.InvariantCulture)));
        headers.Add(RejectedAtHeader, Encoding.UTF8.GetBytes(DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture)));
        return new Message<byte[]?, byte[]?> { Key = source.Message.Key, Value = source.Message.Value, Headers = headers };
    }

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(10));
        _producer.Dispose();
    }
}
