using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;
using Streaming.Api.Fleet;
using Streaming.Api.Policies;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.Signals;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.LifecycleEvents;
using Streaming.Projections.Tail;

namespace Streaming.Api.Jobs;

/// <summary>
/// Reads jobs: the list (filtered, sorted, keyset-paged on the server; with several shards each shard's page merged in
/// the sort's order), a job's detail, its history and its criterion series (from the job's shard).
/// </summary>
public sealed class JobQueries(StoreShards shards, PolicyCatalog policies, GateQueries gates)
{
    const int SeriesEvents = 3_000;

    public async Task<JobPage> ListAsync(JobListQuery query, CancellationToken cancellationToken)
    {
        var paused = query.State == JobListQuery.Paused ? await PausedGatesAsync(cancellationToken) : ([], []);
        var pages = await shards.EachAsync((dataSource, token) => ShardPageAsync(dataSource, query, paused, token), cancellationToken);
        var jobs = pages.Length == 1 ? pages[0].Rows : await MergeAsync(query, pages, cancellationToken);
        string? next = null;
        if (jobs.Count > query.Limit)
        {
            jobs = jobs[..query.Limit];
            next = new JobCursor(query.Sort, jobs[^1].SortValue, jobs[^1].Job.JobId).Encode();
        }
        if (pages.Length == 1 || pages[0].Total is null)
        {
            return new JobPage([.. jobs.Select(j => j.Job)], next, pages[0].Total, pages[0].More);
        }
        // Each shard counted up to the bound: their sum, up to the bound.
        var total = pages.Sum(p => p.Total ?? 0);
        return new JobPage([.. jobs.Select(j => j.Job)], next, Math.Min(total, JobListQuery.CountLimit), total > JobListQuery.CountLimit || pages.Any(p => p.More));
    }

    /// <summary>One shard's page: up to one more row than the page holds, after the cursor, and its count when asked.</summary>
    sealed record ShardPage(List<(JobSummary Job, string SortValue)> Rows, long? Total, bool More);

    /// <summary>
    /// The shards' pages merged in the sort's order, ties by job id, as PostgreSQL orders them (text in the store's
    /// collation, which C# cannot reproduce): shard 0 orders the candidates, at most a page and a row from each shard.
    /// The first rows of the merge are the page after the cursor, since each job lives on one shard only.
    /// </summary>
    async Task<List<(JobSummary Job, string SortValue)>> MergeAsync(JobListQuery query, ShardPage[] pages, CancellationToken cancellationToken)
    {
        var candidates = pages.SelectMany(p => p.Rows).ToList();
        if (candidates.Count == 0)
        {
            return candidates;
        }
        var direction = query.Descending ? "desc" : "asc";
        var (keys, type) = query.Sort switch
        {
            "id" => ((NpgsqlParameter)new NpgsqlParameter<string[]> { TypedValue = [.. candidates.Select(c => c.SortValue)] }, "text"),
            "changes" => (new NpgsqlParameter<int[]> { TypedValue = [.. candidates.Select(c => (int)SortKey(query.Sort, c.SortValue))] }, "int"),
            _ => (new NpgsqlParameter<DateTimeOffset[]> { TypedValue = [.. candidates.Select(c => (DateTimeOffset)SortKey(query.Sort, c.SortValue))] }, "timestamptz"),
        };
        await using var command = shards.Control.CreateCommand(
            $"select ord from unnest($1::{type}[], $2::text[]) with ordinality as c(k, t, ord) order by k {direction}, t {direction} limit $3");
        command.Parameters.Add(keys);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. candidates.Select(c => c.Job.JobId)] });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = query.Limit + 1 });
        var merged = new List<(JobSummary Job, string SortValue)>(query.Limit + 1);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            merged.Add(candidates[(int)reader.GetInt64(0) - 1]);
        }
        return merged;
    }

    /// <summary>A sort value as the query compares it: text, an int or a time (-infinity: <see cref="DateTimeOffset.MinValue"/>).</summary>
    static object SortKey(string sort, string value) => sort switch
    {
        "id" => value,
        "changes" => int.Parse(value, CultureInfo.InvariantCulture),
        _ => DateTimeOffset.Parse(value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
    };

    static async Task<ShardPage> ShardPageAsync(
        NpgsqlDataSource dataSource, JobListQuery query, (string[] Policies, string[] Phases) paused, CancellationToken cancellationToken)
    {
        var where = new StringBuilder("true");
        var parameters = new List<NpgsqlParameter>();
        string Add<T>(T value)
        {
            parameters.Add(new NpgsqlParameter<T> { TypedValue = value });
            return "$" + parameters.Count.ToString(CultureInfo.InvariantCulture);
        }
        if (query.Phase is { } phase)
        {
            where.Append(" and phase = ").Append(Add(phase));
        }
        if (query.Flag is { } flag)
        {
            where.Append(" and flags @> array[").Append(Add(flag)).Append("]::text[]");
        }
        if (query.LabelName is { } labelName)
        {
            // Containment, which the labels' GIN index answers; labels are strings, so it means the same as ->> equality.
            where.Append(" and labels @> jsonb_build_object(").Append(Add(labelName)).Append("::text, ").Append(Add(query.LabelValue!)).Append("::text)");
        }
        if (query.Policy is { } policy)
        {
            var p = Add(policy);
            where.Append(" and (policy = ").Append(p).Append(" or split_part(policy, '@', 1) = ").Append(p).Append(')');
        }
        if (query.Prefix is { } prefix)
        {
            var p = Add(prefix);
            where.Append(" and ").Append(PrefixFilter(p));
        }
        switch (query.State)
        {
            case JobListQuery.Silent:
                where.Append(" and flags @> array[").Append(Add(LifecycleFlags.Silent)).Append("]::text[]");
                break;
            case JobListQuery.AwaitingApproval:
                where.Append(" and flags @> array[").Append(Add(LifecycleFlags.AwaitingApproval)).Append("]::text[] and not flags @> array[")
                    .Append(Add(LifecycleFlags.Approved)).Append("]::text[]");
                break;
            case JobListQuery.Paused:
                where.Append(" and (policy, phase) in (select * from unnest(").Append(Add(paused.Policies)).Append("::text[], ").Append(Add(paused.Phases)).Append("::text[]))");
                break;
        }
        var filters = where.ToString();
        var filterParameters = parameters.ToList();
        var direction = query.Descending ? "desc" : "asc";
        // A filter that may match few jobs (a flag, a label, a policy, an id prefix) is looked up first, through its own
        // index: walking a sort's index until a page of rare matches turns up can read every row when the matches sit at
        // its far end. When at most CountLimit jobs match, the page sorts just those; more match densely enough to walk.
        string[]? matching = null;
        var probed = false;
        if (query.Flag is not null || query.LabelName is not null || query.Policy is not null || query.Prefix is not null || query.State is not null)
        {
            await using var probe = dataSource.CreateCommand($"select job_id from projections.job_states where {filters} limit {JobListQuery.CountLimit + 1}");
            probe.Parameters.AddRange(filterParameters.Select(p => p.Clone()).ToArray());
            var ids = new List<string>();
            await using (var reader = await probe.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    ids.Add(reader.GetString(0));
                }
            }
            probed = true;
            if (ids.Count <= JobListQuery.CountLimit)
            {
                matching = [.. ids];
                parameters.Clear();
                var set = Add(matching);
                // Both sides of the last-signal sort's join, so that neither is walked in full.
                where.Clear().Append("job_id = any(").Append(set).Append(')');
                if (query.TieColumn != "job_id")
                {
                    where.Append(" and ").Append(query.TieColumn).Append(" = any(").Append(set).Append(')');
                }
            }
        }
        if (query.After is { } after)
        {
            var value = SortKey(query.Sort, after.Value) switch
            {
                string text => Add(text),
                int count => Add(count),
                var time => Add((DateTimeOffset)time),
            };
            where.Append(" and (").Append(query.SortColumn).Append(", ").Append(query.TieColumn).Append(") ").Append(query.Descending ? "<" : ">")
                .Append(" (").Append(value).Append(", ").Append(Add(after.JobId)).Append(')');
        }
        var limit = Add(query.Limit + 1);
        await using var command = dataSource.CreateCommand(
            $"select {JobRow.Columns}, {query.SortColumn} from {query.Source} where {where} " +
            $"order by {query.SortColumn} {direction}, {query.TieColumn} {direction} limit {limit}");
        command.Parameters.AddRange(parameters.ToArray());
        var jobs = new List<(JobSummary Job, string SortValue)>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var row = JobRow.Read(reader);
                var sortValue = reader.GetValue(JobRowColumns) switch
                {
                    DateTime time => new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)).ToString("O", CultureInfo.InvariantCulture),
                    var other => Convert.ToString(other, CultureInfo.InvariantCulture)!,
                };
                jobs.Add((Summary(row), sortValue));
            }
        }
        long? total = null;
        var more = false;
        if (query.After is null && query.Count && probed)
        {
            (total, more) = matching is null ? (JobListQuery.CountLimit, true) : (matching.Length, false);
        }
        else if (query.After is null && query.Count)
        {
            // Counted up to a bound: an exact count of a large match reads every matching row, which no page may cost.
            await using var count = dataSource.CreateCommand(
                $"select count(*) from (select from projections.job_states where {filters} limit {JobListQuery.CountLimit + 1}) matching");
            count.Parameters.AddRange(filterParameters.Select(p => p.Clone()).ToArray());
            total = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
            more = total > JobListQuery.CountLimit;
            total = Math.Min(total.Value, JobListQuery.CountLimit);
        }
        return new ShardPage(jobs, total, more);
    }

    // Each policy version's phases whose gate out an operator's pause covers, as the Promoter finds the pause.
    async Task<(string[] Policies, string[] Phases)> PausedGatesAsync(CancellationToken cancellationToken)
    {
        var (_, pauses, _) = await gates.StateAsync(cancellationToken);
        if (pauses.Count == 0)
        {
            return ([], []);
        }
        var book = JobHolds.Book(pauses);
        var (ids, phases) = (new List<string>(), new List<string>());
        foreach (var published in await policies.AllAsync(cancellationToken))
        {
            if (await policies.FindAsync($"{published.Name}@{published.Version}", cancellationToken) is not { } policy)
            {
                continue;
            }
            foreach (var phase in policy.Phases)
            {
                if (policy.NextPhase(phase) is { } next && book.Covering(policy.Name, next) is not null)
                {
                    ids.Add(policy.Id);
                    phases.Add(phase);
                }
            }
        }
        return ([.. ids], [.. phases]);
    }

    /// <summary>
    /// The jobs list's id-prefix filter on the parameter <paramref name="parameter"/>: in the C collation, which the index
    /// on <c>job_id collate "C"</c> has, PostgreSQL reads a prefix as a range of that index.
    /// </summary>
    public static string PrefixFilter(string parameter) => $"starts_with(job_id collate \"C\", {parameter})";

    static readonly int JobRowColumns = JobRow.Columns.Split(',').Length;

    static JobSummary Summary(JobRow row) =>
        new(row.JobId, row.Policy, row.Phase, row.PhaseSince, row.LastReportedPhase, row.LastSignalAt, row.PhaseChanges, row.Flags, row.Labels, row.WaitingFor);

    public async Task<JobRow?> RowAsync(string jobId, CancellationToken cancellationToken) =>
        await RowAsync(shards.DataSourceOfJob(jobId), jobId, cancellationToken);

    static async Task<JobRow?> RowAsync(NpgsqlDataSource dataSource, string jobId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"select {JobRow.Columns} from projections.job_states where job_id = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = jobId });
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? JobRow.Read(reader) : null;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return null;
        }
    }

    public async Task<JobDetail?> DetailAsync(string jobId, CancellationToken cancellationToken)
    {
        var shard = shards.ShardOfJob(jobId);
        var dataSource = shards.All[shard];
        if (await RowAsync(dataSource, jobId, cancellationToken) is not { } written)
        {
            return null;
        }
        var policy = await policies.FindAsync(written.Policy, cancellationToken);
        var lifecycle = await CurrentLifecycleAsync(shards.StreamsOf(shard), written, policy, cancellationToken);
        var row = written with
        {
            PhaseSince = lifecycle.PhaseSince,
            AwaitingAck = lifecycle.AwaitingAcknowledgement,
            LastReportedPhase = lifecycle.LastReportedPhase,
            LastSeq = lifecycle.LastSeq == 0 ? null : lifecycle.LastSeq,
            LastSignalAt = lifecycle.LastSignalAt,
            Metrics = lifecycle.LatestMetrics,
        };
        var report = policy is null ? null : JobLifecycleDecider.Evaluate(lifecycle, policy);
        var demote = policy is null ? [] : DemotionCheck.Evaluate(lifecycle, policy);
        var admission = policy?.AdmissionGate(row.Phase);
        var soak = report is null
            ? new Soak(TimeSpan.Zero, TimeSpan.Zero, false, null)
            : new Soak(report.Soak, report.TimeInPhase, report.SoakMet, row.PhaseSince + report.Soak);
        var (watermark, pauses, _) = await gates.StateAsync(cancellationToken);
        var request = row.Flags.Contains(LifecycleFlags.AwaitingApproval) ? await ApprovalRequestAsync(dataSource, jobId, cancellationToken) : null;
        var holds = JobHolds.Of(row, policy, watermark, JobHolds.Book(pauses), request);
        var (earliest, note) = EarliestMove(row, report, soak, lifecycle, holds, policy);
        return new JobDetail(
            row.JobId, row.Policy, policy?.Phases ?? [], row.Phase, row.AssignedAt, row.LastReportedPhase, row.PhaseSince, row.LastSignalAt, row.LastSeq,
            report?.NextPhase, policy?.PreviousPhase(row.Phase),
            report is null ? [] : [.. report.Criteria.Select(c => View(c, report.Window))],
            [.. demote.Select(c => View(c, admission?.Demote?.Window ?? TimeSpan.Zero))],
            report?.Blocking is { } blocking ? JobReasons.Describe(blocking) : null,
            report is null ? "no-policy" : Verdicts.Name(report.Verdict),
            lifecycle.PromotionStreak, report?.PromoteAfter ?? 0, lifecycle.DemotionStreak, admission?.Demote?.After,
            soak, earliest, note, holds,
            row.Flags, row.Labels, row.Metrics,
            lifecycle.ActiveOverride is { } active
                ? new OverrideView(active.Id, OverrideKinds.Name(active.Kind), active.Phase, active.Actor, active.Reason, active.SetAt, active.ExpiresAt)
                : null,
            row.WaitingFor,
            await DecisionsAsync(dataSource, jobId, cancellationToken),
            await OverridesAsync(dataSource, jobId, cancellationToken),
            await RecentSignalsAsync(shards.StreamsOf(shard), jobId, cancellationToken));
    }

    static (DateTimeOffset? At, string Note) EarliestMove(
        JobRow row, CriteriaReport? report, Soak soak, JobLifecycle lifecycle, IReadOnlyList<JobHold> holds, LifecyclePolicy? policy)
    {
        if (report is null)
        {
            return (null, "no policy governs this job");
        }
        if (report.NextPhase is null)
        {
            return (null, $"{row.Phase} is the last phase");
        }
        if (lifecycle.ActiveOverride is { } active)
        {
            return (active.ExpiresAt, $"{OverrideKinds.Name(active.Kind)} in force" + (active.ExpiresAt is null ? " until released" : ""));
        }
        if (lifecycle.Quarantined)
        {
            return (null, "quarantined: an operator must release it");
        }
        if (row.AwaitingAck)
        {
            return (null, $"waiting for the job to report {row.Phase}");
        }
        var at = soak.EndsAt is { } ends && row.LastSignalAt is { } last ? (ends > last ? ends : last) : soak.EndsAt;
        var holding = holds.Where(h => h.Note is not null).ToList();
        if (holding.Count > 0)
        {
            // It moves once every hold has ended: unknown while any of them ends only by a person or a signal.
            var until = holding.All(h => h.Until is not null) ? holding.Max(h => h.Until) : null;
            return (until is { } end && at is { } soaked && soaked > end ? soaked : until, string.Join("; ", holding.Select(h => h.Note)));
        }
        var evaluations = Math.Max(0, report.PromoteAfter - lifecycle.PromotionStreak);
        var approval = policy?.GateFrom(row.Phase) is { ApprovalRequired: true } && !row.Flags.Contains(LifecycleFlags.Approved)
            ? "; then it waits for an operator's approval"
            : "";
        return report.Verdict == Verdict.Pass
            ? (at, (evaluations == 0 ? $"promotes to {report.NextPhase} at its next signal after the soak" : $"after {evaluations} more passing evaluations") + approval)
            : (at, $"not before the soak ends and the criteria pass {report.PromoteAfter} times in a row" + approval);
    }

    static async Task<ApprovalRequested?> ApprovalRequestAsync(NpgsqlDataSource dataSource, string jobId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select data from es.events where stream_id = $1 and type = $2 order by version desc limit 1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = jobId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ApprovalRequested.EventType });
        return await command.ExecuteScalarAsync(cancellationToken) is string data ? EventDecoder.ReadBody(data, ContractsJson.Default.ApprovalRequested) : null;
    }

    static CriterionView View(CriterionResult result, TimeSpan window) =>
        new(result.Metric, Aggregations.Name(result.Aggregation), result.Comparison.Symbol(), result.Threshold, result.Value, result.Samples,
            Verdicts.Name(result.Verdict), window);

    static async Task<IReadOnlyList<DecisionView>> DecisionsAsync(NpgsqlDataSource dataSource, string jobId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select e.version, e.data from fleet.decisions d join es.events e on e.global_position = d.global_position
            where d.job_id = $1 order by d.global_position desc limit 50
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = jobId });
        var decisions = new List<DecisionView>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var change = ContractsJson.Deserialize<PhaseChanged>(reader.GetString(1));
            decisions.Add(new DecisionView(change.EventId, reader.GetInt64(0), change.From, change.To, change.Direction, change.Reason, change.DecidedAt,
                change.Policy, change.DecidingVersion, change.FirstVersion, change.LastVersion, change.Quarantined,
                [.. change.Criteria.Select(c => new DecisionCriterion(c.Metric, c.Aggregation, Symbol(c.Comparison), c.Threshold, c.Value, c.Samples,
                    c.Verdict ?? (c.Passed ? "pass" : "fail")))]));
        }
        return decisions;
    }

    static string Symbol(string comparison) =>
        Enum.TryParse<Comparison>(comparison, ignoreCase: true, out var parsed) ? parsed.Symbol() : comparison;

    static async Task<IReadOnlyList<OverrideEventView>> OverridesAsync(NpgsqlDataSource dataSource, string jobId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select type, data from es.events where stream_id = $1 and type = any($2) order by version desc limit 50
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = jobId });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [OverrideSet.EventType, OverrideEnded.EventType] });
        var overrides = new List<OverrideEventView>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        // A body that is not the contract (written by other means than the API) is left out, as the folds leave it out.
        while (await reader.ReadAsync(cancellationToken))
        {
            if (reader.GetString(0) == OverrideSet.EventType)
            {
                if (EventDecoder.ReadBody(reader.GetString(1), ContractsJson.Default.OverrideSet) is { } set)
                {
                    overrides.Add(new OverrideEventView("set", set.OverrideId, set.Kind, set.Phase, set.Actor, set.Reason, set.SetAt, set.ExpiresAt));
                }
            }
            else if (EventDecoder.ReadBody(reader.GetString(1), ContractsJson.Default.OverrideEnded) is { } ended)
            {
                overrides.Add(new OverrideEventView("ended", ended.OverrideId, ended.Kind, null, null, ended.Reason, ended.EndedAt, null));
            }
        }
        return overrides;
    }

    /// <summary>
    /// The job's lifecycle as its row holds it, then each signal stored after the row's version folded in as the Projector
    /// folds it: under load a change that moves only a job's metrics waits up to <c>Projector:MetricsWriteInterval</c> to
    /// be written, and the job's page shows it at once. It stops at any other event, which the next write brings within
    /// about a second.
    /// </summary>
    static async Task<JobLifecycle> CurrentLifecycleAsync(EventStreams streams, JobRow row, LifecyclePolicy? policy, CancellationToken cancellationToken)
    {
        var lifecycle = row.ReadLifecycle();
        foreach (var recorded in await streams.ReadStreamForwardAsync(row.JobId, row.StreamVersion + 1, UnwrittenSignalsRead, cancellationToken))
        {
            if (recorded.Type != SignalRecorded.EventType)
            {
                break;
            }
            if (EventDecoder.Decode(recorded).Signal is not { } signal)
            {
                // Skipped for its job, as the Projector skips a signal it cannot read.
                continue;
            }
            var sample = SignalSamples.From(recorded, signal);
            lifecycle = policy is null ? JobLifecycleDecider.Record(lifecycle, sample) : JobLifecycleDecider.Evolve(lifecycle, sample, policy);
        }
        return lifecycle;
    }

    // Signals stored after a job's row: a job signalling every second waits at most 30 of them with the default interval.
    const int UnwrittenSignalsRead = 500;

    static async Task<IReadOnlyList<SignalView>> RecentSignalsAsync(EventStreams streams, string jobId, CancellationToken cancellationToken)
    {
        var events = await streams.ReadStreamBackwardAsync(jobId, long.MaxValue, 40, cancellationToken);
        // A signal the Projector could not read either (poisoned) is left out, not a failed page.
        return [.. events.Where(e => e.Type == SignalRecorded.EventType)
            .Select(e => (e.Version, EventDecoder.Decode(e).Signal))
            .Where(s => s.Signal is not null).Take(20)
            .Select(s => new SignalView(s.Version, s.Signal!.Seq, s.Signal.EmittedAt, s.Signal.Phase, s.Signal.Metrics))];
    }

    /// <summary>The job's events, newest first, from <paramref name="before"/> (a version; null: the newest).</summary>
    public async Task<HistoryPage> HistoryAsync(string jobId, long? before, int limit, CancellationToken cancellationToken)
    {
        var streams = shards.StreamsOfJob(jobId);
        var events = await streams.ReadStreamBackwardAsync(jobId, (before ?? long.MaxValue) - (before is null ? 0 : 1), limit + 1, cancellationToken);
        var page = events.Take(limit).Select(e =>
        {
            var data = JsonNode.Parse(e.Data);
            SecretLabels.MaskInPlace(data?["labels"] as JsonObject);
            return new HistoryEvent(e.Version, e.Type, e.EventTime, e.RecordedAt, e.GlobalPosition, data);
        }).ToList();
        return new HistoryPage(page, events.Count > limit ? page[^1].Version : null);
    }

    /// <summary>
    /// Each criterion of the gate out of the job's phase, evaluated at each of its recent signals as the policy saw it
    /// (the job's latest events replayed through the lifecycle core with the policy version that governs it now),
    /// with the thresholds and where decisions fell. While the job has not acknowledged its phase, or its phase has no
    /// criteria of its own, it charts the evidence of the gate that moved it there instead (with that decision's
    /// thresholds), or, for a job never moved, the criteria of the gate into its phase over its signals there.
    /// </summary>
    public async Task<CriterionSeries?> SeriesAsync(string jobId, CancellationToken cancellationToken)
    {
        var shard = shards.ShardOfJob(jobId);
        if (await RowAsync(shards.All[shard], jobId, cancellationToken) is not { } row)
        {
            return null;
        }
        var policy = await policies.FindAsync(row.Policy, cancellationToken);
        var events = (await shards.StreamsOf(shard).ReadStreamBackwardAsync(jobId, long.MaxValue, SeriesEvents, cancellationToken)).Reverse().ToList();
        var basis = SeriesBasis.For(row, policy, events);
        var metrics = (basis.Promote?.Criteria ?? []).Select(c => (c.Metric, c.Aggregation, c.Comparison)).Concat(
            (basis.Demote?.Criteria ?? []).Select(c => (c.Metric, c.Aggregation, c.Comparison))).Distinct().ToList();
        var times = new List<DateTimeOffset>();
        var values = metrics.Select(_ => new List<double?>()).ToList();
        var decisions = new List<SeriesDecision>();
        JobReplay.Fold(jobId, events, _ => policy, (state, signal, _) =>
        {
            times.Add(signal.EmittedAt);
            var inPhase = policy is not null && state.AssignedPhase == basis.Phase;
            var promote = inPhase && basis.Promote is { } p ? RuleCheck.Evaluate(state, p) : [];
            var demotion = inPhase && basis.Demote is { } d ? RuleCheck.Evaluate(state, d) : [];
            for (var i = 0; i < metrics.Count; i++)
            {
                var (metric, aggregation, comparison) = metrics[i];
                values[i].Add(promote.Concat(demotion).FirstOrDefault(r => r.Metric == metric && r.Aggregation == aggregation && r.Comparison == comparison)?.Value);
            }
        }, change => decisions.Add(new SeriesDecision(change.DecidedAt, change.Direction, change.From, change.To)));
        // Signals from before the job entered the charted phase have no values for its gate: start at its first evaluation there.
        var historyFrom = times.Count > 0 ? times[0] : (DateTimeOffset?)null;
        var first = Enumerable.Range(0, times.Count).FirstOrDefault(i => values.Any(v => v[i] is not null), times.Count);
        times.RemoveRange(0, first);
        values.ForEach(v => v.RemoveRange(0, first));
        var lines = metrics.Select((m, i) => new SeriesLine(m.Metric, Aggregations.Name(m.Aggregation), m.Comparison.Symbol(),
            basis.Promote?.Criteria.FirstOrDefault(c => c.Metric == m.Metric && c.Aggregation == m.Aggregation) is { } promote ? basis.Threshold(promote) : null,
            basis.Demote?.Criteria.FirstOrDefault(c => c.Metric == m.Metric && c.Aggregation == m.Aggregation) is { } demote ? basis.Threshold(demote) : null,
            values[i])).ToList();
        var ownGate = basis.Note is null ? policy?.GateFrom(row.Phase) : null;
        return new CriterionSeries(historyFrom, row.Phase, policy?.NextPhase(row.Phase), ownGate is null ? null : row.PhaseSince + ownGate.Soak, times, lines, decisions,
            basis.Phase, basis.Note);
    }
}
