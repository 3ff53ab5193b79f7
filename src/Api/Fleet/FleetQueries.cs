using Npgsql;
using Streaming.Api.Approvals;
using Streaming.Api.Jobs;
using Streaming.Api.Policies;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Lifecycle;
using Streaming.Promoter.Decisions;
using Streaming.Promoter.Shadows;

namespace Streaming.Api.Fleet;

/// <summary>
/// Reads the fleet's state for the fleet page and the API: one aggregate over the job states (never a row per job to
/// the client), the breakers' and known issues' streams, the Promoter's wave state and the shadow policies' agreement.
/// The summary is a shared snapshot, recomputed in the background at most every two seconds while it is asked for, so
/// any number of open pages cost one aggregate per two seconds and none waits for it.
/// </summary>
public sealed class FleetQueries
{
    const int AttentionPerFlag = 8;

    readonly NpgsqlDataSource _dataSource;
    readonly PolicyCatalog _policies;
    readonly SharedSnapshot<FleetSummary> _summary;

    public FleetQueries(NpgsqlDataSource dataSource, PolicyCatalog policies, TimeProvider clock)
    {
        _dataSource = dataSource;
        _policies = policies;
        _summary = new SharedSnapshot<FleetSummary>(ComputeAsync, TimeSpan.FromSeconds(2), clock);
    }

    public Task<FleetSummary> SummaryAsync() => _summary.GetAsync();

    async Task<FleetSummary> ComputeAsync(CancellationToken cancellationToken)
    {
        var policyVersions = await _policies.AllAsync(cancellationToken);
        var phaseOrder = policyVersions.GroupBy(p => p.Name).Select(g => g.Last())
            .Select(p => PolicyDocument.Parse(p.Text, p.Version).Policy).OfType<LifecyclePolicy>()
            .ToDictionary(p => p.Name, p => p.Phases, StringComparer.Ordinal);
        var phases = await PhaseCountsAsync(phaseOrder, cancellationToken);
        var totals = new PhaseCount("all", "all", 0, phases.Sum(p => p.Jobs), phases.Sum(p => p.AwaitingAck), phases.Sum(p => p.Stuck),
            phases.Sum(p => p.Drifted), phases.Sum(p => p.Regressed), phases.Sum(p => p.Quarantined), phases.Sum(p => p.KnownIssue),
            phases.Sum(p => p.HeldOrPinned), phases.Sum(p => p.WaitingForSlot), phases.Sum(p => p.Poisoned));
        var breakers = await BreakersAsync(cancellationToken);
        return new FleetSummary(
            DateTimeOffset.UtcNow,
            phases,
            totals,
            breakers,
            await WavesAsync(phases, breakers, policyVersions, cancellationToken),
            await KnownIssuesAsync(cancellationToken),
            await ShadowAsync(cancellationToken),
            await AttentionAsync(cancellationToken),
            await new ApprovalQueries(_dataSource, _policies).GatesAsync(cancellationToken));
    }

    async Task<IReadOnlyList<PhaseCount>> PhaseCountsAsync(Dictionary<string, IReadOnlyList<string>> phaseOrder, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("""
            select split_part(policy, '@', 1), phase, count(*)::int,
                   (count(*) filter (where awaiting_ack))::int,
                   (count(*) filter (where stuck))::int,
                   (count(*) filter (where 'drifted' = any(flags)))::int,
                   (count(*) filter (where regressed))::int,
                   (count(*) filter (where 'quarantined' = any(flags)))::int,
                   (count(*) filter (where 'known-issue' = any(flags)))::int,
                   (count(*) filter (where 'held' = any(flags) or 'pinned' = any(flags)))::int,
                   (count(*) filter (where waiting_for is not null))::int,
                   (count(*) filter (where 'poisoned' = any(flags)))::int
            from projections.job_states
            group by 1, 2
            """);
        var counts = new List<PhaseCount>();
        await foreach (var reader in ReadAsync(command, cancellationToken))
        {
            var (policy, phase) = (reader.GetString(0), reader.GetString(1));
            var order = phaseOrder.TryGetValue(policy, out var ordered) && ordered.Contains(phase) ? ordered.ToList().IndexOf(phase) : 99;
            counts.Add(new PhaseCount(policy, phase, order, reader.GetInt32(2), reader.GetInt32(3), reader.GetInt32(4), reader.GetInt32(5),
                reader.GetInt32(6), reader.GetInt32(7), reader.GetInt32(8), reader.GetInt32(9), reader.GetInt32(10), reader.GetInt32(11)));
        }
        return [.. counts.OrderBy(c => c.Policy, StringComparer.Ordinal).ThenBy(c => c.Order).ThenBy(c => c.Phase, StringComparer.Ordinal)];
    }

    public async Task<IReadOnlyList<BreakerState>> BreakersAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("""
            select distinct on (stream_id) data from es.events
            where stream_id = any(array(select stream_id from es.streams where starts_with(stream_id, $1))) and type = $2
            order by stream_id, version desc
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = CircuitBreakerChanged.StreamPrefix });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = CircuitBreakerChanged.EventType });
        var breakers = new List<BreakerState>();
        await foreach (var reader in ReadAsync(command, cancellationToken))
        {
            var changed = ContractsJson.Deserialize<CircuitBreakerChanged>(reader.GetString(0));
            breakers.Add(new BreakerState(changed.Policy, changed.Phase, changed.State, changed.At, changed.Reason, changed.Demotions, changed.Jobs));
        }
        return breakers;
    }

    async Task<IReadOnlyList<WaveState>> WavesAsync(
        IReadOnlyList<PhaseCount> phases, IReadOnlyList<BreakerState> breakers, IReadOnlyList<PolicyPublished> policyVersions, CancellationToken cancellationToken)
    {
        FleetControl? fleet;
        try
        {
            fleet = await DecisionStateTable.LoadFleetAsync(_dataSource, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            fleet = null;
        }
        if (fleet is null)
        {
            return [];
        }
        var waves = new List<WaveState>();
        foreach (var traffic in fleet.Phases.Values)
        {
            var policy = policyVersions.LastOrDefault(p => p.Name == traffic.Policy) is { } published
                ? PolicyDocument.Parse(published.Text, published.Version).Policy
                : null;
            var gate = policy?.AdmissionGate(traffic.Phase);
            var latest = traffic.Promotions.Count == 0 ? (DateTimeOffset?)null : traffic.Promotions.Max();
            var lastHour = latest is { } end ? traffic.Promotions.Count(p => p > end - TimeSpan.FromHours(1)) : 0;
            var open = breakers.Any(b => b.Policy == traffic.Policy && b.Phase == traffic.Phase && b.State == CircuitBreakerChanged.Open);
            if (traffic.InFlight.Count == 0 && traffic.Queue.Count == 0 && gate?.Wave is null && !open)
            {
                continue;
            }
            waves.Add(new WaveState(traffic.Policy, traffic.Phase, phases.Where(p => p.Policy == traffic.Policy && p.Phase == traffic.Phase).Sum(p => p.Jobs),
                traffic.InFlight.Count, gate?.Wave?.MaxInFlight, traffic.Queue.Count, lastHour, gate?.Wave?.MaxPerHour, open));
        }
        return waves;
    }

    public async Task<IReadOnlyList<KnownIssueSummary>> KnownIssuesAsync(CancellationToken cancellationToken)
    {
        var jobs = new Dictionary<string, int>(StringComparer.Ordinal);
        await using (var counts = _dataSource.CreateCommand("""
            select substr(f, length('known-issue:') + 1), count(*)::int
            from projections.job_states, unnest(flags) f
            where 'known-issue' = any(flags) and starts_with(f, 'known-issue:')
            group by 1
            """))
        {
            await foreach (var reader in ReadAsync(counts, cancellationToken))
            {
                jobs[reader.GetString(0)] = reader.GetInt32(1);
            }
        }
        await using var command = _dataSource.CreateCommand("""
            select type, data from es.events
            where stream_id = any(array(select stream_id from es.streams where starts_with(stream_id, $1)))
            order by stream_id, version
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = KnownIssueOpened.StreamPrefix });
        var issues = new Dictionary<string, KnownIssueSummary>(StringComparer.Ordinal);
        await foreach (var reader in ReadAsync(command, cancellationToken))
        {
            switch (reader.GetString(0))
            {
                case KnownIssueOpened.EventType:
                    var opened = ContractsJson.Deserialize<KnownIssueOpened>(reader.GetString(1));
                    issues[opened.IssueId] = new KnownIssueSummary(opened.IssueId, opened.Title, true, jobs.GetValueOrDefault(opened.IssueId),
                        opened.JobIds, opened.MatchLabels, opened.OpenedBy, opened.OpenedAt, null, null, null);
                    break;
                case KnownIssueResolved.EventType:
                    var resolved = ContractsJson.Deserialize<KnownIssueResolved>(reader.GetString(1));
                    if (issues.TryGetValue(resolved.IssueId, out var issue))
                    {
                        issues[resolved.IssueId] = issue with { Open = false, Jobs = 0, ResolvedBy = resolved.ResolvedBy, ResolvedAt = resolved.ResolvedAt, Resolution = resolved.Reason };
                    }
                    break;
            }
        }
        return [.. issues.Values.OrderByDescending(i => i.Open).ThenByDescending(i => i.OpenedAt)];
    }

    public async Task<IReadOnlyList<ShadowAgreementSummary>> ShadowAsync(CancellationToken cancellationToken)
    {
        try
        {
            var agreement = await ShadowStateTable.LoadAgreementAsync(_dataSource, cancellationToken);
            return [.. agreement.Values.OrderBy(a => a.Policy, StringComparer.Ordinal).Select(a => new ShadowAgreementSummary(
                a.Policy, a.Agreed, a.LiveOnly, a.ShadowOnly, a.Open, a.AgreementRate, a.Agreed == 0 ? null : a.LeadSeconds / a.Agreed / 60))];
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return [];
        }
    }

    async Task<IReadOnlyDictionary<string, IReadOnlyList<AttentionJob>>> AttentionAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            "select flag, " + JobRow.Columns + """
             from (select f as flag, s.*, row_number() over (partition by f order by s.job_id) as n
                   from projections.job_states s, unnest(s.flags) f
                   where s.flags && $1 and f = any($1)) ranked
            where n <= $2
            order by flag, job_id
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. FleetFlags.Attention] });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = AttentionPerFlag });
        var rows = new List<(string Flag, JobRow Row)>();
        await foreach (var reader in ReadAsync(command, cancellationToken))
        {
            rows.Add((reader.GetString(0), JobRow.Read(reader, 1)));
        }
        var lists = new Dictionary<string, IReadOnlyList<AttentionJob>>(StringComparer.Ordinal);
        foreach (var flag in FleetFlags.Attention)
        {
            var jobs = new List<AttentionJob>();
            foreach (var (_, row) in rows.Where(r => r.Flag == flag))
            {
                jobs.Add(new AttentionJob(row.JobId, row.Policy, row.Phase, JobReasons.For(flag, row, await _policies.FindAsync(row.Policy, cancellationToken))));
            }
            lists[flag] = jobs;
        }
        return lists;
    }

    /// <summary>Rows of a query; none while the projection's view does not exist yet (the Projector has not started).</summary>
    static async IAsyncEnumerable<NpgsqlDataReader> ReadAsync(NpgsqlCommand command, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        NpgsqlDataReader reader;
        try
        {
            reader = await command.ExecuteReaderAsync(cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            yield break;
        }
        await using (reader)
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                yield return reader;
            }
        }
    }
}
