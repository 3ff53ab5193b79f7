using MassTransit;
using Streaming.Contracts.PhaseChanges;

namespace Streaming.Promoter.Publishing;

/// <summary>
/// Publishes to the MassTransit bus on RabbitMQ: a durable direct exchange (<c>streaming.phase-changes</c>), routing key
/// the job id, persistent messages whose MessageId is the decision's event id, each confirmed by the broker. A job's
/// changes are published one after another, different jobs' side by side.
/// </summary>
public sealed class BusPhaseChangeTransport(IBus bus, string exchange, TimeSpan publishTimeout) : IPhaseChangeTransport
{
    /// <summary>The checkpoint of the relay to the bus, apart from the Kafka relay's.</summary>
    public const string CheckpointName = "promoter:phase-change-relay:bus";

    public string Destination => "RabbitMQ exchange " + exchange;

    public async Task PublishAsync(IReadOnlyList<PhaseChangedMessage> changes, CancellationToken cancellationToken)
    {
        // MassTransit waits for a lost connection to come back; the timeout turns that wait into an outage to report.
        using var unconfirmed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        unconfirmed.CancelAfter(publishTimeout);
        try
        {
            await Task.WhenAll(changes.GroupBy(c => c.JobId, StringComparer.Ordinal).Select(async job =>
            {
                foreach (var change in job)
                {
                    await bus.Publish(change, context =>
                    {
                        context.MessageId = change.EventId;
                        context.Durable = true;
                        context.SetRoutingKey(PhaseChangeBus.RoutingKey(change.JobId));
                    }, unconfirmed.Token);
                }
            }));
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BrokerUnconfirmedException(Destination, changes.Count, e);
        }
    }
}
