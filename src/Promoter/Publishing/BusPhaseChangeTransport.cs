using MassTransit;
using Streaming.Contracts.PhaseChanges;

namespace Streaming.Promoter.Publishing;

/// <summary>
/// Publishes to the MassTransit bus on RabbitMQ: the durable direct exchange <c>streaming.phase-changes</c>, routing key
/// the job id, persistent messages whose MessageId is the decision's event id, each confirmed by the broker. A job's
/// changes are published one after another; different jobs' side by side.
/// </summary>
public sealed class BusPhaseChangeTransport(IBus bus) : IPhaseChangeTransport
{
    public const string Checkpoint = "promoter:phase-change-relay:bus";

    public string CheckpointName => Checkpoint;

    public Task PublishAsync(IReadOnlyList<PhaseChangedMessage> changes, CancellationToken cancellationToken) =>
        Task.WhenAll(changes.GroupBy(c => c.JobId, StringComparer.Ordinal).Select(async job =>
        {
            foreach (var change in job)
            {
                await bus.Publish(change, context =>
                {
                    context.MessageId = change.EventId;
                    context.Durable = true;
                    context.SetRoutingKey(PhaseChangeBus.RoutingKey(change.JobId));
                }, cancellationToken);
            }
        }));
}
