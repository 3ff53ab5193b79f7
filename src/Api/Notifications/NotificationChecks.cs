using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Api.Telemetry;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;

namespace Streaming.Api.Notifications;

/// <summary>
/// The rules checked periodically: jobs newly flagged stuck, drifted, poisoned or silent (the Projector's flags, set in
/// event time), and the dead-letter rate and the lag from the pipeline's latest sample. Each rule's check runs in one
/// transaction that holds the rule's row (so instances take turns), writes its notification to the outbox, and records
/// what it told (the cool-down's start, the jobs told about): a restart neither repeats nor loses one. A condition that
/// fired and then stays back under its threshold for <see cref="NotificationOptions.ResolveAfter"/> is told resolved, once.
/// With several store shards the flags are every shard's jobs', read before the rule's transaction, which holds what was
/// told on shard 0 (the API's own).
/// </summary>
public sealed partial class NotificationChecks(
    NpgsqlDataSource dataSource,
    StoreShards shards,
    NotificationOptions options,
    NotificationOutbox outbox,
    FiringConditions conditions,
    NotificationMetrics metrics,
    PipelineSampler? sampler,
    LoopHealth health,
    TimeProvider clock,
    ILogger<NotificationChecks> logger) : BackgroundService
{
    const string Loop = "notification-checks";

    // Job ids named in a notification at most; the count says how many there were.
    const int NamedJobs = 20;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var outage = new Outage(Loop, health, logger);
        health.Running(Loop);
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = options.CheckInterval;
            try
            {
                await CheckAsync(stoppingToken);
                outage.Succeeded();
            }
            catch (Exception e) when (TransientFaults.IsTransient(e) && !stoppingToken.IsCancellationRequested)
            {
                wait = outage.Failed(e, options.CheckInterval);
            }
            if (!await Outage.WaitAsync(wait, stoppingToken))
            {
                return;
            }
        }
    }

    /// <summary>Checks every rule once.</summary>
    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        metrics.Flags = await FlagCountsAsync(cancellationToken);
        foreach (var (name, rule) in options.Rules.FlagRules().Where(r => r.Rule.Enabled))
        {
            await CheckFlagAsync(name, rule, cancellationToken);
        }
        if (sampler?.Current is { DatabaseReachable: true } sample && clock.GetUtcNow() - sample.At < options.CheckInterval + options.CheckInterval)
        {
            await CheckRatesAsync(sample, cancellationToken);
        }
    }

    async Task<IReadOnlyDictionary<string, long>> FlagCountsAsync(CancellationToken cancellationToken)
    {
        var counts = NotificationMetrics.ExportedFlags.ToDictionary(f => f, _ => 0L, StringComparer.Ordinal);
        foreach (var shard in await shards.EachAsync(ShardFlagCountsAsync, cancellationToken))
        {
            foreach (var (flag, count) in shard)
            {
                counts[flag] = counts.GetValueOrDefault(flag) + count;
            }
        }
        return counts;
    }

    static async Task<List<(string Flag, long Count)>> ShardFlagCountsAsync(NpgsqlDataSource shard, CancellationToken cancellationToken)
    {
        var counts = new List<(string, long)>();
        await using var command = shard.CreateCommand("select f, count(*) from projections.job_states, unnest(flags) f group by f");
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                counts.Add((reader.GetString(0), reader.GetInt64(1)));
            }
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            // The Projector has not created its tables yet: no job has a flag.
        }
        return counts;
    }

    // The jobs of shards other than 0 that carry the flag now (shard 0's are read in the rule's transaction).
    async Task<string[]> FlaggedElsewhereAsync(string flag, CancellationToken cancellationToken)
    {
        if (shards.Count == 1)
        {
            return [];
        }
        var flagged = new List<string>();
        foreach (var shard in shards.All.Skip(1))
        {
            await using var command = shard.CreateCommand("select job_id from projections.job_states where flags @> array[$1::text]");
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = flag });
            try
            {
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    flagged.Add(reader.GetString(0));
                }
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
            {
            }
        }
        return [.. flagged];
    }

    async Task CheckFlagAsync(string flag, NotificationRule rule, CancellationToken cancellationToken)
    {
        var elsewhere = await FlaggedElsewhereAsync(flag, cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var firedAt = await ClaimRuleAsync(transaction, flag, cancellationToken);
        // Jobs that lost the flag are forgotten (told again if they get it back); the rest not told yet are new.
        await using var newly = new NpgsqlCommand("""
            with current as (select job_id from projections.job_states where flags @> array[$1::text]
                             union all select unnest($3::text[])),
                 cleared as (delete from notifications.told_jobs t
                             where t.rule = $1 and not exists (select from current c where c.job_id = t.job_id))
            select job_id, count(*) over () from current c
            where not exists (select from notifications.told_jobs t where t.rule = $1 and t.job_id = c.job_id)
            order by job_id
            limit $2
            """, connection, transaction);
        newly.Parameters.Add(new NpgsqlParameter<string> { TypedValue = flag });
        newly.Parameters.Add(new NpgsqlParameter<int> { TypedValue = NamedJobs });
        newly.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = elsewhere });
        var jobs = new List<string>();
        long count = 0;
        try
        {
            await using var reader = await newly.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                jobs.Add(reader.GetString(0));
                count = reader.GetInt64(1);
            }
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return;
        }
        var now = clock.GetUtcNow();
        if (count >= rule.Threshold && CooledDown(firedAt, rule, now))
        {
            var named = string.Join(", ", jobs) + (count > jobs.Count ? $" and {count - jobs.Count} more" : "");
            var notification = new Notification(
                $"{flag}:{now.UtcTicks.ToString(CultureInfo.InvariantCulture)}:{jobs[0]}",
                flag,
                Notification.Warning,
                count == 1 ? $"1 job newly {flag}: {jobs[0]}" : $"{count} jobs newly {flag}",
                $"Newly flagged {flag}: {named}.",
                null,
                now,
                new JsonObject { ["flag"] = flag, ["count"] = count, ["jobs"] = new JsonArray([.. jobs.Select(j => JsonValue.Create(j))]) });
            await using var remember = new NpgsqlCommand("""
                insert into notifications.told_jobs (rule, job_id)
                select $1, job_id from projections.job_states where flags @> array[$1::text]
                union all select $1, unnest($2::text[])
                on conflict do nothing
                """, connection, transaction);
            remember.Parameters.Add(new NpgsqlParameter<string> { TypedValue = flag });
            remember.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = elsewhere });
            await remember.ExecuteNonQueryAsync(cancellationToken);
            await FiredAsync(transaction, notification, now, cancellationToken);
            LogTold(logger, flag, count);
        }
        else
        {
            // Back under the threshold: fewer jobs than it carry the flag at all.
            var flagged = metrics.Flags.GetValueOrDefault(flag);
            await ResolveIfClearAsync(transaction, flag, flagged < rule.Threshold, now,
                () => Invariant($"{flagged} jobs are flagged {flag} now (threshold {rule.Threshold:0.##})."),
                () => new JsonObject { ["flag"] = flag, ["count"] = flagged, ["threshold"] = rule.Threshold }, cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    async Task CheckRatesAsync(PipelineSample sample, CancellationToken cancellationToken)
    {
        var at = sample.At;
        var rules = options.Rules;
        if (rules.DeadLetters.Enabled)
        {
            await CheckConditionAsync(NotificationRules.DeadLettersName, rules.DeadLetters, sample.DeadLettersPerSecond >= rules.DeadLetters.Threshold, () => new Notification(
                Key(NotificationRules.DeadLettersName, at),
                NotificationRules.DeadLettersName,
                Notification.Critical,
                Invariant($"Dead letters: {sample.DeadLettersPerSecond:0.##} messages a second reach the dead-letter topic"),
                Invariant($"{sample.DeadLettersPerSecond:0.##} messages a second were dead-lettered (threshold {rules.DeadLetters.Threshold:0.##}); {sample.DeadLettered} are on the dead-letter topic."),
                null,
                at,
                new JsonObject { ["perSecond"] = sample.DeadLettersPerSecond, ["total"] = sample.DeadLettered, ["threshold"] = rules.DeadLetters.Threshold }),
                () => Invariant($"{sample.DeadLettersPerSecond:0.##} messages a second are dead-lettered now (threshold {rules.DeadLetters.Threshold:0.##})."),
                () => new JsonObject { ["perSecond"] = sample.DeadLettersPerSecond, ["total"] = sample.DeadLettered, ["threshold"] = rules.DeadLetters.Threshold },
                cancellationToken);
        }
        if (rules.FoldLag.Enabled)
        {
            var slowest = sample.Folds.MaxBy(f => f.Seconds);
            var seconds = slowest?.Seconds ?? 0;
            await CheckConditionAsync(NotificationRules.FoldLagName, rules.FoldLag, slowest is not null && seconds >= rules.FoldLag.Threshold, () => new Notification(
                Key(NotificationRules.FoldLagName, at),
                NotificationRules.FoldLagName,
                Notification.Warning,
                Invariant($"Processing lag: {slowest!.Name} is {slowest.Seconds:0} s behind the log"),
                Invariant($"The fold {slowest.Name} has {slowest.Events} events to read, the oldest {slowest.Seconds:0} s old (threshold {rules.FoldLag.Threshold:0} s)."),
                slowest.Name,
                at,
                new JsonObject { ["fold"] = slowest.Name, ["events"] = slowest.Events, ["seconds"] = slowest.Seconds, ["threshold"] = rules.FoldLag.Threshold }),
                () => Invariant($"The slowest fold is {seconds:0} s behind the log now (threshold {rules.FoldLag.Threshold:0} s)."),
                () => new JsonObject { ["seconds"] = seconds, ["threshold"] = rules.FoldLag.Threshold },
                cancellationToken);
        }
        if (rules.ConsumerLag.Enabled && sample.BrokerReachable)
        {
            await CheckConditionAsync(NotificationRules.ConsumerLagName, rules.ConsumerLag, sample.ConsumerLag >= rules.ConsumerLag.Threshold, () => new Notification(
                Key(NotificationRules.ConsumerLagName, at),
                NotificationRules.ConsumerLagName,
                Notification.Warning,
                Invariant($"Ingest lag: {sample.ConsumerLag} signals on the broker are not stored yet"),
                Invariant($"Ingest is {sample.ConsumerLag} signals behind the signals topic (threshold {rules.ConsumerLag.Threshold:0})."),
                null,
                at,
                new JsonObject { ["messages"] = sample.ConsumerLag, ["threshold"] = rules.ConsumerLag.Threshold }),
                () => Invariant($"Ingest is {sample.ConsumerLag} signals behind the signals topic now (threshold {rules.ConsumerLag.Threshold:0})."),
                () => new JsonObject { ["messages"] = sample.ConsumerLag, ["threshold"] = rules.ConsumerLag.Threshold },
                cancellationToken);
        }
    }

    // One check of a rate's condition: fires it (once per cool-down) while it is over its threshold, and resolves what
    // fired once it has stayed under it for the hold.
    async Task CheckConditionAsync(
        string name, NotificationRule rule, bool over, Func<Notification> notification, Func<string> clearText, Func<JsonObject> clearDetails,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var firedAt = await ClaimRuleAsync(transaction, name, cancellationToken);
        if (over && CooledDown(firedAt, rule, now))
        {
            await FiredAsync(transaction, notification(), now, cancellationToken);
            LogTold(logger, name, 1);
        }
        else
        {
            await ResolveIfClearAsync(transaction, name, !over, now, clearText, clearDetails, cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    async Task ResolveIfClearAsync(
        NpgsqlTransaction transaction, string rule, bool clear, DateTimeOffset now, Func<string> text, Func<JsonObject> details, CancellationToken cancellationToken)
    {
        if (await FiringConditions.FindAsync(transaction, rule, FiringConditions.Whole, cancellationToken) is not { } firing)
        {
            return;
        }
        var (next, resolved) = firing.Checked(clear, now, options.ResolveAfter);
        if (resolved)
        {
            await conditions.ResolveAsync(transaction, rule, FiringConditions.Whole, firing, now, text(), details(), cancellationToken);
            LogResolved(logger, rule, firing.Key);
        }
        else if (next != firing)
        {
            await FiringConditions.HoldAsync(transaction, rule, FiringConditions.Whole, next.ClearSince, cancellationToken);
        }
    }

    // Writes the notification, starts the rule's cool-down and records the condition as firing.
    async Task FiredAsync(NpgsqlTransaction transaction, Notification notification, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await outbox.AddAsync(transaction, [notification], cancellationToken);
        await using var command = new NpgsqlCommand("update notifications.rule_state set fired_at = $2 where rule = $1", transaction.Connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = notification.Rule });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now.ToUniversalTime() });
        await command.ExecuteNonQueryAsync(cancellationToken);
        await FiringConditions.FiredAsync(transaction, notification.Rule, FiringConditions.Whole, notification.Key, cancellationToken);
    }

    static bool CooledDown(DateTimeOffset? firedAt, NotificationRule rule, DateTimeOffset now) => firedAt is not { } at || now - at >= rule.CoolDown;

    static string Key(string rule, DateTimeOffset at) => $"{rule}:{at.UtcTicks.ToString(CultureInfo.InvariantCulture)}";

    static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    // Takes the rule's row for this transaction (the other instances wait) and says when it last fired.
    static async Task<DateTimeOffset?> ClaimRuleAsync(NpgsqlTransaction transaction, string rule, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            insert into notifications.rule_state (rule) values ($1)
            on conflict (rule) do update set rule = excluded.rule
            returning fired_at
            """, transaction.Connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = rule });
        return await command.ExecuteScalarAsync(cancellationToken) is DateTime firedAt ? new DateTimeOffset(firedAt, TimeSpan.Zero) : null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Notification rule {Rule} fired ({Count} jobs or samples over its threshold)")]
    static partial void LogTold(ILogger logger, string rule, long count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Notification rule {Rule} resolved (the notification {Key} fired for it)")]
    static partial void LogResolved(ILogger logger, string rule, string key);
}
