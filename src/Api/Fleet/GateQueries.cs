using Npgsql;
using Streaming.Api.Policies;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.Promoter.Decisions;

namespace Streaming.Api.Fleet;

/// <summary>
/// Reads the Promoter's gate state (saved with its checkpoint) and the policies' windows for <see cref="GateSummary"/>;
/// with several shards, each shard's Promoter saves its own: the fleet's watermark is the latest of theirs, silent jobs
/// their sum, and the pauses (control events every shard has) the newest of each scope.
/// </summary>
public sealed class GateQueries(StoreShards shards, PolicyCatalog policies)
{
    /// <summary>The watermark, the pauses in force and how many jobs are silent, as the Promoter last saved them.</summary>
    public async Task<(DateTimeOffset? Watermark, IReadOnlyList<Pause> Pauses, int Silent)> StateAsync(CancellationToken cancellationToken)
    {
        var states = await shards.EachAsync(ShardStateAsync, cancellationToken);
        if (states.Length == 1)
        {
            return states[0];
        }
        return (states.Max(s => s.Watermark), [.. states.SelectMany(s => s.Pauses).GroupBy(p => (p.Policy, p.Phase)).Select(g => g.MaxBy(p => p.At)!)],
            states.Sum(s => s.Silent));
    }

    static async Task<(DateTimeOffset? Watermark, IReadOnlyList<Pause> Pauses, int Silent)> ShardStateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        try
        {
            return await GateStateTable.LoadSummaryAsync(dataSource, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return (null, [], 0);
        }
    }

    public async Task<GateSummary> SummaryAsync(CancellationToken cancellationToken)
    {
        var state = await StateAsync(cancellationToken);
        var windows = new List<WindowState>();
        foreach (var latest in (await policies.AllAsync(cancellationToken)).GroupBy(p => p.Name).Select(g => g.MaxBy(p => p.Version)!))
        {
            if (PolicyDocument.Parse(latest.Text, latest.Version).Policy is { Gating.Windows.Count: > 0 } policy)
            {
                windows.Add(new WindowState(policy.Name, [.. policy.Gating.Windows.Select(w => w.Describe())],
                    state.Watermark is { } at ? policy.Gating.InWindow(at) : null, policy.Gating.WindowDemotions));
            }
        }
        return new GateSummary(state.Watermark, state.Silent, [.. state.Pauses.Select(PauseState.Of)], windows);
    }
}
