using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.PhaseChanges;
using Streaming.EventStore;
using Streaming.Hosting.Kafka;

namespace Streaming.Promoter.Publishing;

/// <summary>
/// Publishes every recorded phase change to <c>job-phase-changes</c>, in log order, and moves its checkpoint only after
/// the broker has acknowledged them. A crash in between publishes a batch again with the same event ids (at least once);
/// rebuilding projections or replaying history never reaches this checkpoint, so it never re-publishes old decisions.
/// </summary>
public sealed class PhaseChangeRelay(
    NpgsqlDataSource dataSource,
    KafkaOptions kafka,
    Func<TimeSpan, CancellationToken, Task> waitForEvents,
    ILogger<PhaseChangeRelay> logger) : IDisposable
{
    public const string CheckpointName = "promoter:phase-change-relay";
    const int BatchSize = 5000;

    readonly EventLog _log = new(dataSource);
    readonly IProducer<string, byte[]> _producer =
        new ProducerBuilder<string, byte[]>(KafkaClientConfig.Producer(kafka, "streaming-promoter")).Build();

    long _published;

    public long Published => Interlocked.Read(ref _published);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        TailPosition? saved;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            saved = await Checkpoints.LoadAsync(connection, CheckpointName, cancellationToken);
        }
        var position = saved ?? TailPosition.Start;
        while (!cancellationToken.IsCancellationRequested)
        {
            var events = await _log.ReadTailAsync(position, BatchSize, cancellationToken);
            if (events.Count == 0)
            {
                await waitForEvents(TimeSpan.FromSeconds(1), cancellationToken);
                continue;
            }
            var deliveries = new List<Task<DeliveryResult<string, byte[]>>>();
            foreach (var recorded in events.Where(e => e.Type == PhaseChanged.EventType))
            {
                var change = ContractsJson.Deserialize<PhaseChanged>(recorded.Data);
                var message = new PhaseChangedMessage(
                    PhaseChangedMessage.SchemaV1, change.EventId, change.JobId, change.From, change.To, change.Direction,
                    change.Reason, change.DecidedAt, change.Policy, recorded.Version);
                deliveries.Add(_producer.ProduceAsync(kafka.PhaseChangesTopic, new Message<string, byte[]>
                {
                    Key = change.JobId,
                    Value = ContractsJson.SerializeToUtf8(message),
                    Headers = [new Header("event-id", Encoding.UTF8.GetBytes(change.EventId.ToString()))],
                }, cancellationToken));
            }
            await Task.WhenAll(deliveries);
            var last = events[^1];
            var next = new TailPosition(last.TxId, last.GlobalPosition);
            await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
            await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
            {
                await Checkpoints.SaveAsync(transaction, CheckpointName, saved, next, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
            saved = position = next;
            if (deliveries.Count > 0)
            {
                Interlocked.Add(ref _published, deliveries.Count);
                logger.LogDebug("Published {Count} phase changes", deliveries.Count);
            }
        }
    }

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(10));
        _producer.Dispose();
    }
}
