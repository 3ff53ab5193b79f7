using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Lifecycle;

namespace Streaming.Promoter.Overrides;

/// <summary>Records an operator's override in the job's stream; the Promoter carries it out in its place in the log.</summary>
public sealed class OverrideWriter(EventStreams streams, TimeProvider clock)
{
    public async Task<OverrideSet> SetAsync(
        string jobId, OverrideKind kind, string? phase, string actor, string reason, TimeSpan? lasting, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        if (kind == OverrideKind.Pin && string.IsNullOrWhiteSpace(phase))
        {
            throw new ArgumentException("a pin needs the phase to pin the job to", nameof(phase));
        }
        if (lasting is not null && kind is not (OverrideKind.Hold or OverrideKind.Pin))
        {
            throw new ArgumentException($"only a hold or a pin lasts; {OverrideKinds.Name(kind)} acts once", nameof(lasting));
        }
        var now = clock.GetUtcNow();
        var set = new OverrideSet(Guid.NewGuid(), jobId, OverrideKinds.Name(kind), kind == OverrideKind.Pin ? phase : null, actor, reason, now, now + lasting);
        await streams.AppendToStreamAsync(jobId, ExpectedVersion.Any,
            [new EventToAppend(set.OverrideId, OverrideSet.EventType, ContractsJson.Serialize(set), ContractsJson.Serialize(new EventMetadata(null, null)), now)],
            cancellationToken);
        return set;
    }
}
