using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Promoter.Approvals;
using Streaming.Promoter.Overrides;

namespace Streaming.Api.Shards;

/// <summary>
/// The writers of jobs' own streams (overrides, approvals), each on the job's shard. A batch approval over several
/// shards is one transaction per shard: no transaction spans two, so a failure on one leaves the others' approvals.
/// </summary>
public sealed class JobWriters(StoreShards shards, TimeProvider clock)
{
    readonly OverrideWriter[] _overrides = [.. Enumerable.Range(0, shards.Count).Select(s => new OverrideWriter(shards.StreamsOf(s), clock))];
    readonly ApprovalWriter[] _approvals = [.. Enumerable.Range(0, shards.Count).Select(s => new ApprovalWriter(shards.StreamsOf(s), clock))];

    public OverrideWriter OverridesFor(string jobId) => _overrides[shards.ShardOfJob(jobId)];

    /// <summary>As <see cref="ApprovalWriter.GrantAsync"/>, each shard's jobs in a transaction of its own; the grants in the targets' order.</summary>
    public async Task<IReadOnlyList<ApprovalGranted>> GrantAsync(
        IReadOnlyList<ApprovalTarget> targets, string actor, string reason, string scope, CancellationToken cancellationToken)
    {
        if (shards.Count == 1)
        {
            return await _approvals[0].GrantAsync(targets, actor, reason, scope, cancellationToken);
        }
        var byShard = new Dictionary<int, List<ApprovalTarget>>();
        foreach (var target in targets)
        {
            var shard = shards.ShardOfJob(target.JobId);
            (byShard.TryGetValue(shard, out var list) ? list : byShard[shard] = []).Add(target);
        }
        var granted = new Dictionary<string, ApprovalGranted>(StringComparer.Ordinal);
        foreach (var (shard, shardTargets) in byShard.OrderBy(s => s.Key))
        {
            foreach (var grant in await _approvals[shard].GrantAsync(shardTargets, actor, reason, scope, cancellationToken))
            {
                granted[grant.JobId] = grant;
            }
        }
        return [.. targets.Select(t => granted[t.JobId])];
    }
}
