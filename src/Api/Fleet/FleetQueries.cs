using Npgsql;
using Streaming.Api.Approvals;
using Streaming.Api.Jobs;
using Streaming.Api.Policies;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.Lifecycle.Admissions;
using Streaming.Promoter.Decisions;
using Streaming.Promoter.Shadows;

namespace Streaming.Api.Fleet;

/// <summary>
/// Reads the fleet's state for the fleet page and the API: one aggregate over the job states (never a row per job to
/// the client), the breakers' and known issues' streams, the Promoter's wave state and the shadow policies' agreement.
/// The summary is a shared snapshot, recomputed in the background at most every two seconds while it is asked for, so
/// any number of open pages cost one aggregate per two seconds and none waits for it. With several shards, the job
/// states' counts and the Promoters' states are each shard's summed; the control streams are read on shard 0.
/// </summary>
public sealed class FleetQueries
{
    const int AttentionPerFlag = 8;

    readonly StoreShards _shards;
    readonly PolicyCatalog _policies;
    readonly SharedSnapshot<FleetSummary> _summary;

    public FleetQueries(StoreShards shards, PolicyCatalog policies, TimeProvider clock)
    {
        _shards = shards;
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
            await new ApprovalQueries(_shards, _policies).GatesAsync(cancellationToken));
    }

    async Task<IReadOnlyList<PhaseCount>> PhaseCountsAsync(Dictionary<string, IReadOnlyList<string>> phaseOrder, CancellationToken cancellationToken)
    {
        var shards = await _shards.EachAsync((dataSource, token) => ShardPhaseCountsAsync(dataSource, phaseOrder, token), cancellationToken);
        var counts = shards.Length == 1 ? shards[0] : [.. shards.SelectMany(s => s).GroupBy(c => (c.Policy, c.Phase)).Select(g => g.Aggregate((a, b) => a with
        {
            Jobs = a.Jobs + b.Jobs, AwaitingAck = a.AwaitingAck + b.AwaitingAck, Stuck = a.Stuck + b.Stuck, Drifted = a.Drifted + b.Drifted,
            Regressed = a.Regressed + b.Regressed, Quarantined = a.Quarantined + b.Quarantined, KnownIssue = a.KnownIssue + b.KnownIssue,
            HeldOrPinned = a.HeldOrPinned + b.HeldOrPinned, WaitingForSlot = a.WaitingForSlot + b.WaitingForSlot, Poisoned = a.Poisoned + b.Poisoned,
        }))];
        return [.. counts.OrderBy(c => c.Policy, StringComparer.Ordinal).ThenBy(c => c.Order).ThenBy(c => c.Phase, StringComparer.Ordinal)];
    }

    static async Task<List<PhaseCount>> ShardPhaseCountsAsync(
        NpgsqlDataSource dataSource, Dictionary<string, IReadOnlyList<string>> phaseOrder, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
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
        return counts;
    }

    public async Task<IReadOnlyList<BreakerState>> BreakersAsync(CancellationToken cancellationToken)
    {
        await using var command = _shards.Control.CreateCommand("""
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
        var fleets = (await _shards.EachAsync(FleetAsync, cancellationToken)).OfType<FleetControl>().ToList();
        // With several Promoters (Owner mode) a wave's slots are the ledger its owner saves on shard 0.
        var ledger = await LedgerAsync(_shards.Control, cancellationToken);
        var waves = new List<WaveState>();
        // Each shard's Promoter keeps the waves of its own jobs: a phase's in flight and queued are their sums.
        foreach (var shares in fleets.SelectMany(f => f.Phases.Values).GroupBy(t => (t.Policy, t.Phase)))
        {
            var traffic = shares.First();
            var policy = policyVersions.LastOrDefault(p => p.Name == traffic.Policy) is { } published
                ? PolicyDocument.Parse(published.Text, published.Version).Policy
                : null;
            var gate = policy?.AdmissionGate(traffic.Phase);
            var slots = ledger?.Gates.GetValueOrDefault(FleetControl.Key(traffic.Policy, traffic.Phase));
            var promotions = shares.SelectMany(t => t.Promotions).Concat(slots?.Grants ?? []).ToList();
            var latest = promotions.Count == 0 ? (DateTimeOffset?)null : promotions.Max();
            var lastHour = latest is { } end ? promotions.Count(p => p > end - TimeSpan.FromHours(1)) : 0;
            var (inFlight, queued) = (shares.Sum(t => t.InFlight.Count) + (slots?.Granted.Count ?? 0), shares.Sum(t => t.Queue.Count) + (slots?.Queue.Count ?? 0));
            var open = breakers.Any(b => b.Policy == traffic.Policy && b.Phase == traffic.Phase && b.State == CircuitBreakerChanged.Open);
            if (inFlight == 0 && queued == 0 && gate?.Wave is null && !open)
            {
                continue;
            }
            waves.Add(new WaveState(traffic.Policy, traffic.Phase, phases.Where(p => p.Policy == traffic.Policy && p.Phase == traffic.Phase).Sum(p => p.Jobs),
                inFlight, gate?.Wave?.MaxInFlight, queued, lastHour, gate?.Wave?.MaxPerHour, open));
        }
        return waves;
    }

    static async Task<FleetControl?> FleetAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        try
        {
            return await DecisionStateTable.LoadFleetAsync(dataSource, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return null;
        }
    }

    static async Task<AdmissionLedger?> LedgerAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        try
        {
            return await AdmissionStateTable.LoadAsync(dataSource, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return null;
        }
    }

    public async Task<IReadOnlyList<KnownIssueSummary>> KnownIssuesAsync(CancellationToken cancellationToken)
    {
        var jobs = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (issue, count) in (await _shards.EachAsync(IssueJobsAsync, cancellationToken)).SelectMany(c => c))
        {
            jobs[issue] = jobs.GetValueOrDefault(issue) + count;
        }
        await using var command = _shards.Control.CreateCommand("""
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

    static async Task<List<(string Issue, int Jobs)>> IssueJobsAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var counts = dataSource.CreateCommand("""
            select substr(f, length('known-issue:') + 1), count(*)::int
            from projections.job_states, unnest(flags) f
            where 'known-issue' = any(flags) and starts_with(f, 'known-issue:')
            group by 1
            """);
        var jobs = new List<(string, int)>();
        await foreach (var reader in ReadAsync(counts, cancellationToken))
        {
            jobs.Add((reader.GetString(0), reader.GetInt32(1)));
        }
        return jobs;
    }

    public async Task<IReadOnlyList<ShadowAgreementSummary>> ShadowAsync(CancellationToken cancellationToken)
    {
        // Each shard's Promoter follows the shadow policies over its own jobs: the agreement is their sum.
        var agreement = new Dictionary<string, ShadowAgreement>(StringComparer.Ordinal);
        foreach (var share in (await _shards.EachAsync(AgreementAsync, cancellationToken)).SelectMany(a => a.Values))
        {
            if (!agreement.TryGetValue(share.Policy, out var sum))
            {
                agreement[share.Policy] = sum = new ShadowAgreement(share.Policy);
            }
            sum.Agreed += share.Agreed;
            sum.LiveOnly += share.LiveOnly;
            sum.ShadowOnly += share.ShadowOnly;
            sum.Open += share.Open;
            sum.LeadSeconds += share.LeadSeconds;
        }
        return [.. agreement.Values.OrderBy(a => a.Policy, StringComparer.Ordinal).Select(a => new ShadowAgreementSummary(
            a.Policy, a.Agreed, a.LiveOnly, a.ShadowOnly, a.Open, a.AgreementRate, a.Agreed == 0 ? null : a.LeadSeconds / a.Agreed / 60))];
    }

    static async Task<Dictionary<string, ShadowAgreement>> AgreementAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        try
        {
            return await ShadowStateTable.LoadAgreementAsync(dataSource, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return [];
        }
    }

    async Task<IReadOnlyDictionary<string, IReadOnlyList<AttentionJob>>> AttentionAsync(CancellationToken cancellationToken)
    {
        // Each shard's first few of each flag; of them all, the first few by id (ordinal: which few is all it decides).
        var rows = (await _shards.EachAsync(AttentionRowsAsync, cancellationToken)).SelectMany(r => r)
            .OrderBy(r => r.Row.JobId, StringComparer.Ordinal).ToList();
        var lists = new Dictionary<string, IReadOnlyList<AttentionJob>>(StringComparer.Ordinal);
        foreach (var flag in FleetFlags.Attention)
        {
            var jobs = new List<AttentionJob>();
            foreach (var (_, row) in rows.Where(r => r.Flag == flag).Take(AttentionPerFlag))
            {
                jobs.Add(new AttentionJob(row.JobId, row.Policy, row.Phase, JobReasons.For(flag, row, await _policies.FindAsync(row.Policy, cancellationToken))));
            }
            lists[flag] = jobs;
        }
        return lists;
    }

    static async Task<List<(string Flag, JobRow Row)>> AttentionRowsAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
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
        return rows;
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
