using Streaming.Contracts.History;
using Streaming.Contracts.PhaseChanges;

namespace Streaming.Promoter.Publishing;

/// <summary>The wire message of a recorded phase change.</summary>
public static class PhaseChangeMessages
{
    /// <summary>The message of <paramref name="change"/>, recorded as version <paramref name="version"/> of its job's stream.</summary>
    public static PhaseChangedMessage Of(PhaseChanged change, long version) =>
        new(PhaseChangedMessage.SchemaV1, change.EventId, change.JobId, change.From, change.To, change.Direction, change.Reason, change.DecidedAt,
            change.Policy, version);
}
