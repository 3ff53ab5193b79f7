using MassTransit;
using Streaming.Contracts.PhaseChanges;

namespace Streaming.JobClient.Phases;

/// <summary>
/// For jobs that run MassTransit themselves: makes a RabbitMQ receive endpoint the job's phase-change queue, so an
/// ordinary <c>IConsumer&lt;PhaseChangedMessage&gt;</c> on it gets this job's changes and no other job's.
/// <code>
/// cfg.ReceiveEndpoint(PhaseChangeBus.QueueName(jobId), e =>
/// {
///     e.ReceivePhaseChangesOf(jobId);
///     e.ConfigureConsumer&lt;MyPhaseConsumer&gt;(context);
/// });
/// </code>
/// </summary>
public static class JobPhaseEndpoint
{
    /// <param name="exchange">The Promoter's <c>Bus:Exchange</c>, if it is not the default.</param>
    /// <param name="queueExpiry">Let RabbitMQ delete the queue after it had no consumer for this long (a retired job's).</param>
    public static void ReceivePhaseChangesOf(
        this IRabbitMqReceiveEndpointConfigurator endpoint, string jobId, string exchange = PhaseChangeBus.Exchange, TimeSpan? queueExpiry = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        // Bound by the job's key only: the default topology would bind the queue to every PhaseChangedMessage.
        endpoint.ConfigureConsumeTopology = false;
        endpoint.Bind(exchange, binding =>
        {
            binding.ExchangeType = PhaseChangeBus.ExchangeType;
            binding.Durable = true;
            binding.RoutingKey = PhaseChangeBus.RoutingKey(jobId);
        });
        endpoint.Durable = true;
        endpoint.AutoDelete = false;
        if (queueExpiry is { } expiry)
        {
            endpoint.QueueExpiration = expiry;
        }
        // One at a time, so the job sees its changes in the order they were published.
        endpoint.PrefetchCount = 16;
        endpoint.ConcurrentMessageLimit = 1;
    }
}
