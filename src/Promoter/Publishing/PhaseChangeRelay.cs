using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.PhaseChanges;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;

namespace Streaming.Promoter.Publishing;

/// <summary>
/// Publishes every recorded phase change to one transport, in log order, and moves that transport's checkpoint only
/// after the broker has confirmed the batch: the event store is the outbox. A crash between the two publishes the batch
/// again with the same event ids (at least once, in per-job order); rebuilding projections or replaying history never
/// reaches this checkpoint, so it never re-publishes old decisions. A broker or database outage is waited out.
/// </summary>
public sealed partial class PhaseChangeRelay(
    NpgsqlDataSource dataSource,
    IPhaseChangeTransport transport,
    string checkpointName,
    Func<TimeSpan, CancellationToken, Task> waitForEvents,
    LoopHealth health,
    ILogger<PhaseChangeRelay> logger)
{
    /// <summary>The checkpoint of the relay to Kafka.</summary>
    public const string CheckpointName = "promoter:phase-change-relay";

    const int BatchSize = 5000;

    readonly EventLog _log = new(dataSource);
    long _published;

    public long Published => Interlocked.Read(ref _published);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var outage = new Outage(checkpointName, health, logger);
        TailPosition? saved = null;
        var loaded = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (!loaded)
                {
                    await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                    saved = await Checkpoints.LoadAsync(connection, checkpointName, cancellationToken);
                    loaded = true;
                }
                var events = await _log.ReadTailAsync(saved ?? TailPosition.Start, BatchSize, cancellationToken);
                outage.Succeeded();
                if (events.Count == 0)
                {
                    await waitForEvents(TimeSpan.FromSeconds(1), cancellationToken);
                    continue;
                }
                var changes = events.Where(e => e.Type == PhaseChanged.EventType).Select(Message).ToList();
                if (changes.Count > 0)
                {
                    await transport.PublishAsync(changes, cancellationToken);
                }
                var next = events[^1].Position;
                await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
                await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
                {
                    await Checkpoints.SaveAsync(transaction, checkpointName, saved, next, cancellationToken);
                    await transaction.CommitAsync(cancellationToken);
                }
                saved = next;
                if (changes.Count > 0)
                {
                    Interlocked.Add(ref _published, changes.Count);
                    LogPublished(logger, changes.Count, transport.Destination);
                }
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && TransientFaults.IsTransient(e))
            {
                // From the checkpoint again: a batch the broker may have half taken is published whole once more.
                if (!await Outage.WaitAsync(outage.Failed(e), cancellationToken))
                {
                    return;
                }
            }
        }
    }

    static PhaseChangedMessage Message(RecordedEvent recorded)
    {
        var change = ContractsJson.Deserialize<PhaseChanged>(recorded.Data);
        return new PhaseChangedMessage(
            PhaseChangedMessage.SchemaV1, change.EventId, change.JobId, change.From, change.To, change.Direction,
            change.Reason, change.DecidedAt, change.Policy, recorded.Version);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Published {Count} phase changes to {Destination}")]
    static partial void LogPublished(ILogger logger, int count, string destination);
}
