using System.Text;
using Confluent.Kafka;
using Streaming.Contracts.Json;
using Streaming.Contracts.PhaseChanges;
using Streaming.Hosting.Kafka;

namespace Streaming.Promoter.Publishing;

/// <summary>
/// Publishes to <c>job-phase-changes</c>, keyed by job id (murmur2 partitioner: all of a job's changes in one partition,
/// in order), acknowledged by all in-sync replicas. The topic is log-compacted: its last record per key is the job's
/// current assignment.
/// </summary>
public sealed class KafkaPhaseChangeTransport(KafkaOptions kafka, TimeSpan publishTimeout) : IPhaseChangeTransport, IDisposable
{
    // The name the Kafka relay has always used, so stores keep their place.
    public const string Checkpoint = "promoter:phase-change-relay";

    readonly IProducer<string, byte[]> _producer = new ProducerBuilder<string, byte[]>(WithTimeout(KafkaClientConfig.Producer(kafka, "streaming-promoter"), publishTimeout)).Build();

    public string CheckpointName => Checkpoint;

    public Task PublishAsync(IReadOnlyList<PhaseChangedMessage> changes, CancellationToken cancellationToken) =>
        // The idempotent producer keeps the order of a partition's records whatever is in flight at once.
        Task.WhenAll(changes.Select(change => _producer.ProduceAsync(kafka.PhaseChangesTopic, new Message<string, byte[]>
        {
            Key = change.JobId,
            Value = ContractsJson.SerializeToUtf8(change),
            Headers = [new Header("event-id", Encoding.UTF8.GetBytes(change.EventId.ToString()))],
        }, cancellationToken)));

    // A batch that failed is produced again from the checkpoint, so a message librdkafka could not deliver in time must
    // fail rather than stay queued and be delivered later beside its copy.
    static ProducerConfig WithTimeout(ProducerConfig config, TimeSpan timeout)
    {
        config.MessageTimeoutMs = (int)timeout.TotalMilliseconds;
        return config;
    }

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(10));
        _producer.Dispose();
    }
}
