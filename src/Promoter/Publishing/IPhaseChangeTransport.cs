using Streaming.Contracts.PhaseChanges;

namespace Streaming.Promoter.Publishing;

/// <summary>One broker the relay publishes recorded phase changes to, with the checkpoint that says how far it got.</summary>
public interface IPhaseChangeTransport
{
    /// <summary>The relay's checkpoint for this transport: each transport moves through the log on its own.</summary>
    string CheckpointName { get; }

    /// <summary>
    /// Publishes the changes, in their order per job, and completes only when the broker has confirmed every one; any
    /// failure throws, and the relay publishes the whole batch again (the same event ids).
    /// </summary>
    Task PublishAsync(IReadOnlyList<PhaseChangedMessage> changes, CancellationToken cancellationToken);
}
