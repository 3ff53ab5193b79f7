using Npgsql;
using Streaming.Api.Policies;
using Streaming.Lifecycle;
using Streaming.Promoter.Decisions;

namespace Streaming.Api.Fleet;

/// <summary>Reads the Promoter's gate state (saved with its checkpoint) and the policies' windows for <see cref="GateSummary"/>.</summary>
public sealed class GateQueries(NpgsqlDataSource dataSource, PolicyCatalog policies)
{
    /// <summary>The watermark, the pauses in force and how many jobs are silent, as the Promoter last saved them.</summary>
    public async Task<(DateTimeOffset? Watermark, IReadOnlyList<Pause> Pauses, int Silent)> StateAsync(CancellationToken cancellationToken)
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
