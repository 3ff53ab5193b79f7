using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;

namespace Streaming.Promoter.Approvals;

/// <summary>
/// Records operators' approvals, each in the approved job's stream, so the Promoter (and every rebuild and backtest)
/// meets it in its place in the log. A batch is one transaction: every job approved, or none.
/// </summary>
public sealed class ApprovalWriter(EventStreams streams, TimeProvider clock)
{
    /// <summary>Approves each job's move through the gate it waits at (<see cref="ApprovalTarget"/>), with one actor, reason and scope.</summary>
    public async Task<IReadOnlyList<ApprovalGranted>> GrantAsync(
        IReadOnlyList<ApprovalTarget> targets, string actor, string reason, string scope, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        ArgumentException.ThrowIfNullOrWhiteSpace(scope);
        var now = clock.GetUtcNow();
        var granted = targets.Select(t => new ApprovalGranted(Guid.NewGuid(), t.JobId, t.From, t.To, actor, reason, scope, now)).ToList();
        if (granted.Count == 0)
        {
            return granted;
        }
        var metadata = ContractsJson.Serialize(new EventMetadata(null, null));
        await streams.InTransactionAsync(async transaction =>
        {
            await EventStreams.LockAsync(transaction, granted.Select(g => g.JobId), cancellationToken);
            foreach (var grant in granted)
            {
                await streams.AppendOnceAsync(transaction, grant.JobId,
                    new EventToAppend(grant.ApprovalId, ApprovalGranted.EventType, ContractsJson.Serialize(grant), metadata, now), cancellationToken);
            }
            return granted.Count;
        }, cancellationToken);
        return granted;
    }
}
