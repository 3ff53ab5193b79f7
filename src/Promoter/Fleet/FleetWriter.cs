using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;

namespace Streaming.Promoter.Fleet;

/// <summary>Records operators' fleet-wide commands: opening and resolving known issues, and resetting a circuit breaker.</summary>
public sealed class FleetWriter(EventStreams streams, TimeProvider clock)
{
    /// <summary>Opens a known issue; an id that was used before is refused (<see cref="WrongExpectedVersionException"/>).</summary>
    public async Task<KnownIssueOpened> OpenIssueAsync(
        string issueId, string title, IReadOnlyList<string> jobIds, IReadOnlyDictionary<string, string> matchLabels, string openedBy,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(issueId);
        ArgumentException.ThrowIfNullOrWhiteSpace(title);
        if (jobIds.Count == 0 && matchLabels.Count == 0)
        {
            throw new ArgumentException("a known issue names its jobs, a label selector, or both", nameof(jobIds));
        }
        var opened = new KnownIssueOpened(issueId, title, jobIds, matchLabels, openedBy, clock.GetUtcNow());
        await AppendAsync(KnownIssueOpened.StreamFor(issueId), ExpectedVersion.NoStream, Guid.NewGuid(), KnownIssueOpened.EventType,
            ContractsJson.Serialize(opened), opened.OpenedAt, cancellationToken);
        return opened;
    }

    /// <summary>Resolves an open known issue; one that is not open is refused (<see cref="WrongExpectedVersionException"/>).</summary>
    public async Task<KnownIssueResolved> ResolveIssueAsync(string issueId, string resolvedBy, string reason, CancellationToken cancellationToken)
    {
        var resolved = new KnownIssueResolved(issueId, resolvedBy, reason, clock.GetUtcNow());
        await AppendAsync(KnownIssueOpened.StreamFor(issueId), 1, Guid.NewGuid(), KnownIssueResolved.EventType,
            ContractsJson.Serialize(resolved), resolved.ResolvedAt, cancellationToken);
        return resolved;
    }

    public async Task<CircuitBreakerResetRequested> ResetBreakerAsync(string policy, string phase, string actor, string reason, CancellationToken cancellationToken)
    {
        var reset = new CircuitBreakerResetRequested(policy, phase, actor, reason, clock.GetUtcNow());
        await AppendAsync(CircuitBreakerChanged.StreamFor(policy, phase), ExpectedVersion.Any, Guid.NewGuid(), CircuitBreakerResetRequested.EventType,
            ContractsJson.Serialize(reset), reset.At, cancellationToken);
        return reset;
    }

    Task<long> AppendAsync(string stream, long expectedVersion, Guid eventId, string type, string data, DateTimeOffset at, CancellationToken cancellationToken) =>
        streams.AppendToStreamAsync(stream, expectedVersion,
            [new EventToAppend(eventId, type, data, ContractsJson.Serialize(new EventMetadata(null, null)), at)], cancellationToken);
}
