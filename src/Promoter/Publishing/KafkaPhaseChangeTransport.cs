using System.Text;
using Confluent.Kafka;
using Streaming.Contracts.Json;
using Streaming.Contracts.PhaseChanges;
using Streaming.Hosting.Kafka;

namespace Streaming.Promoter.Publishing;

/// <summary>
/// Publishes to <c>job-phase-changes</c>, keyed by job id (murmur2: all of a job's changes in one partition, in order,
/// kept by the idempotent producer whatever is in flight), acknowledged by all in-sync replicas, the event id in a
/// header. The topic is log-compacted: its last record per key is the job's current assignment.
/// </summary>
public sealed class KafkaPhaseChangeTransport(KafkaOptions kafka, TimeSpan publishTimeout) : IPhaseChangeTransport, IDisposable
{
    // A batch that failed is published again whole, so a message librdkafka could not deliver in time must fail rather
    // than stay queued (or in flight to a broker that went silent) and be delivered later beside its copy.
    readonly IProducer<string, byte[]> _producer = new ProducerBuilder<string, byte[]>(
        new ProducerConfig(KafkaClientConfig.Producer(kafka, "streaming-promoter"))
        {
            MessageTimeoutMs = (int)publishTimeout.TotalMilliseconds,
            RequestTimeoutMs = (int)publishTimeout.TotalMilliseconds,
            // A decision goes out the moment it is handed over; the relay batches what it publishes itself.
            LingerMs = 0,
        }).Build();

    public string Destination => "Kafka topic " + kafka.PhaseChangesTopic;

    public async Task PublishAsync(IReadOnlyList<PhaseChangedMessage> changes, CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(changes.Select(change => _producer.ProduceAsync(kafka.PhaseChangesTopic, new Message<string, byte[]>
            {
                Key = change.JobId,
                Value = ContractsJson.SerializeToUtf8(change),
                Headers = [new Header("event-id", Encoding.UTF8.GetBytes(change.EventId.ToString()))],
            }, cancellationToken)));
        }
        catch (ProduceException<string, byte[]> e) when (!e.Error.IsFatal)
        {
            throw new BrokerUnconfirmedException(Destination, changes.Count, e);
        }
    }

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(10));
        _producer.Dispose();
    }
}
