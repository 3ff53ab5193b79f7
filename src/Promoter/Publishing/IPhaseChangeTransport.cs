using Streaming.Contracts.PhaseChanges;

namespace Streaming.Promoter.Publishing;

/// <summary>
/// Where a <see cref="PhaseChangeRelay"/> publishes recorded phase changes: Kafka's <c>job-phase-changes</c> topic, or
/// the MassTransit bus. <see cref="PublishAsync"/> completes only once the broker has confirmed every message, in their
/// order per job; when it cannot (unreachable, refused, silent past a timeout) it throws
/// <see cref="BrokerUnconfirmedException"/>, and the relay publishes the same messages again.
/// </summary>
public interface IPhaseChangeTransport
{
    /// <summary>What the transport publishes to, for logs.</summary>
    string Destination { get; }

    Task PublishAsync(IReadOnlyList<PhaseChangedMessage> changes, CancellationToken cancellationToken);
}
