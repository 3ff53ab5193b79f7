using System.Text.Json;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using Streaming.Api.Jobs;
using Streaming.Api.Policies;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Lifecycle;

namespace Streaming.Api.Approvals;

/// <summary>
/// Reads the jobs waiting for approval from <c>projections.job_states</c> (their flags, through the flags' index): a
/// job's from its shard, the counts summed over the shards, a selector's matches from every shard.
/// </summary>
public sealed class ApprovalQueries(StoreShards shards, PolicyCatalog policies)
{
    const int JobEvents = 50;

    static readonly string[] EventTypes = [ApprovalRequested.EventType, ApprovalGranted.EventType, ApprovalLapsed.EventType];

    /// <summary>The request the job waits on now (when its row says it waits) and its latest approval events.</summary>
    public async Task<JobApprovals> JobAsync(string jobId, bool waiting, CancellationToken cancellationToken)
    {
        await using var command = shards.DataSourceOfJob(jobId).CreateCommand(
            "select version, type, data from es.events where stream_id = $1 and type = any($2) order by version desc limit $3");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = jobId });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = EventTypes });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = JobEvents });
        var events = new List<ApprovalEventView>();
        ApprovalRequested? request = null;
        ApprovalGranted? granted = null;
        var current = waiting;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var (version, type, data) = (reader.GetInt64(0), reader.GetString(1), reader.GetString(2));
            switch (type)
            {
                case ApprovalRequested.EventType:
                    var requested = ContractsJson.Deserialize<ApprovalRequested>(data);
                    events.Add(new ApprovalEventView("requested", version, requested.RequestedAt, requested.From, requested.To, null, requested.Reason, null));
                    if (current)
                    {
                        request = requested;
                        current = false;
                    }
                    break;
                case ApprovalGranted.EventType:
                    var grant = ContractsJson.Deserialize<ApprovalGranted>(data);
                    events.Add(new ApprovalEventView("granted", version, grant.GrantedAt, grant.From, grant.To, grant.Actor, grant.Reason, grant.Scope));
                    // Newest first: the earliest approval after the request is the one that counts.
                    granted = current ? grant : granted;
                    break;
                case ApprovalLapsed.EventType:
                    var lapsed = ContractsJson.Deserialize<ApprovalLapsed>(data);
                    events.Add(new ApprovalEventView("lapsed", version, lapsed.LapsedAt, lapsed.From, lapsed.To, null, lapsed.Reason, null));
                    current = false;
                    break;
            }
        }
        var wait = request is null ? null : new ApprovalWait(request.From, request.To, request.Policy, request.RequestedAt, request.DecidingVersion, request.Reason,
            [.. request.Criteria.Select(View)], granted is not null && granted.From == request.From && granted.To == request.To ? granted : null);
        return new JobApprovals(wait, events);
    }

    static DecisionCriterion View(CriterionOutcome c) =>
        new(c.Metric,
            Enum.TryParse<Aggregation>(c.Aggregation, ignoreCase: true, out var aggregation) ? Aggregations.Name(aggregation) : c.Aggregation,
            Enum.TryParse<Comparison>(c.Comparison, ignoreCase: true, out var comparison) ? comparison.Symbol() : c.Comparison,
            c.Threshold, c.Value, c.Samples, c.Verdict ?? (c.Passed ? "pass" : "fail"));

    /// <summary>Jobs waiting and approved per policy and gate.</summary>
    public async Task<IReadOnlyList<ApprovalGateCount>> GatesAsync(CancellationToken cancellationToken)
    {
        var gates = new Dictionary<(string, string, string?), ApprovalGateCount>();
        foreach (var (policyId, phase, waiting, approved) in (await shards.EachAsync(GateRowsAsync, cancellationToken)).SelectMany(r => r))
        {
            var policy = await policies.FindAsync(policyId, cancellationToken);
            var name = policyId.Split('@')[0];
            var key = (name, phase, policy?.NextPhase(phase));
            gates[key] = gates.TryGetValue(key, out var held)
                ? held with { Waiting = held.Waiting + waiting, Approved = held.Approved + approved }
                : new ApprovalGateCount(name, phase, key.Item3, waiting, approved);
        }
        return [.. gates.Values];
    }

    static async Task<List<(string Policy, string Phase, int Waiting, int Approved)>> GateRowsAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select policy, phase,
                   (count(*) filter (where not flags @> array[$2]))::int,
                   (count(*) filter (where flags @> array[$2]))::int
            from projections.job_states where flags @> array[$1] group by 1, 2 order by 1, 2
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = LifecycleFlags.AwaitingApproval });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = LifecycleFlags.Approved });
        var rows = new List<(string Policy, string Phase, int Waiting, int Approved)>();
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add((reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt32(3)));
            }
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return [];
        }
        return rows;
    }

    /// <summary>
    /// The jobs waiting for approval (not approved yet) that the selector matches, in job id order (each shard's, then
    /// ordinal across them), at most <paramref name="limit"/>.
    /// </summary>
    public async Task<IReadOnlyList<WaitingJob>> MatchAsync(
        string? policy, string? phase, IReadOnlyDictionary<string, string> labels, int limit, CancellationToken cancellationToken)
    {
        var matches = await shards.EachAsync((dataSource, token) => ShardMatchAsync(dataSource, policy, phase, labels, limit, token), cancellationToken);
        return matches.Length == 1 ? matches[0] : [.. matches.SelectMany(m => m).OrderBy(j => j.JobId, StringComparer.Ordinal).Take(limit)];
    }

    static async Task<List<WaitingJob>> ShardMatchAsync(
        NpgsqlDataSource dataSource, string? policy, string? phase, IReadOnlyDictionary<string, string> labels, int limit, CancellationToken cancellationToken)
    {
        var where = new StringBuilder("flags @> array[$1] and not flags @> array[$2]");
        var command = dataSource.CreateCommand();
        await using var _ = command;
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = LifecycleFlags.AwaitingApproval });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = LifecycleFlags.Approved });
        string Add<T>(T value, NpgsqlDbType? type = null)
        {
            var parameter = new NpgsqlParameter<T> { TypedValue = value };
            if (type is { } t)
            {
                parameter.NpgsqlDbType = t;
            }
            command.Parameters.Add(parameter);
            return "$" + command.Parameters.Count;
        }
        if (policy is not null)
        {
            where.Append(" and split_part(policy, '@', 1) = ").Append(Add(policy));
        }
        if (phase is not null)
        {
            where.Append(" and phase = ").Append(Add(phase));
        }
        if (labels.Count > 0)
        {
            where.Append(" and labels @> ").Append(Add(JsonSerializer.Serialize(labels), NpgsqlDbType.Jsonb));
        }
        command.CommandText = $"select job_id, policy, phase from projections.job_states where {where} order by job_id limit {Add(limit)}";
        var jobs = new List<WaitingJob>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            jobs.Add(new WaitingJob(reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        }
        return jobs;
    }
}
