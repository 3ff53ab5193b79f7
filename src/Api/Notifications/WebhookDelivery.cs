using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Hosting.Resilience;

namespace Streaming.Api.Notifications;

/// <summary>
/// Delivers the outbox: claims due deliveries (a lease of twice the webhook timeout, renewed before each send and
/// released on an orderly stop, so instances never send one twice at once and a crashed one holds its claims briefly),
/// sends each, and records what came of it: delivered (never sent again), retried after a capped exponential backoff with jitter (or the answer's Retry-After), or failed for good after <see cref="DeliveryOptions.MaxAttempts"/>
/// or a refusal. A process stopped between a send and its record sends once more with the same idempotency key.
/// </summary>
public sealed partial class WebhookDelivery(
    NpgsqlDataSource dataSource,
    NotificationOptions options,
    WebhookSender sender,
    NotificationMetrics metrics,
    LoopHealth health,
    ILogger<WebhookDelivery> logger) : BackgroundService
{
    const string Loop = "notification-delivery";

    static readonly TimeSpan CountInterval = TimeSpan.FromSeconds(5);
    static readonly TimeSpan PruneInterval = TimeSpan.FromMinutes(10);

    // Notifications deleted per statement: each delete is short, so it never holds the outbox for long.
    const int PruneBatch = 500;

    readonly Dictionary<string, WebhookOptions> _webhooks = options.Webhooks.ToDictionary(w => w.Name, StringComparer.Ordinal);
    readonly Stopwatch _sinceCount = new();
    readonly Stopwatch _sincePrune = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var outage = new Outage(Loop, health, logger);
        health.Running(Loop);
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = options.Delivery.PollInterval;
            try
            {
                // A full batch: more may be due at once.
                if (await DeliverDueAsync(stoppingToken) == options.Delivery.BatchSize)
                {
                    wait = TimeSpan.Zero;
                }
                await CountAsync(stoppingToken);
                await PruneAsync(stoppingToken);
                outage.Succeeded();
            }
            catch (Exception e) when (TransientFaults.IsTransient(e) && !stoppingToken.IsCancellationRequested)
            {
                wait = outage.Failed(e);
            }
            if (wait > TimeSpan.Zero && !await Outage.WaitAsync(wait, stoppingToken))
            {
                return;
            }
        }
    }

    /// <summary>
    /// How long a claim holds a delivery: twice the webhook timeout, renewed before each send, so the deliveries a crashed
    /// instance claimed are due again at most this long after its last send began.
    /// </summary>
    public TimeSpan Lease => options.Delivery.Timeout * 2;

    /// <summary>Sends what is due once; returns how many deliveries it claimed.</summary>
    public async Task<int> DeliverDueAsync(CancellationToken cancellationToken)
    {
        var claimed = await ClaimAsync(cancellationToken);
        var due = claimed;
        try
        {
            while (due.Count > 0)
            {
                // Each claim is renewed before its send, compared with the lease this process set: one another
                // instance took over after it ran out (this process stalled) is left to that instance.
                due = await RenewAsync(due, cancellationToken);
                if (due.Count == 0)
                {
                    break;
                }
                var claim = due[0];
                var outcome = await sender.SendAsync(_webhooks[claim.Webhook], claim.Notification, cancellationToken);
                due = [.. due.Skip(1)];
                var attempt = claim.Attempts + 1;
                if (outcome.State == DeliveryOutcome.Retry && attempt >= options.Delivery.MaxAttempts)
                {
                    outcome = outcome with { State = DeliveryOutcome.Failed, Error = $"{outcome.Error} (gave up after {attempt} attempts)" };
                }
                var delay = options.Delivery.RetryDelay(attempt);
                if (outcome.RetryAfter is { } asked && asked > delay)
                {
                    delay = asked < options.Delivery.MaxRetryDelay ? asked : options.Delivery.MaxRetryDelay;
                }
                // The record is not cancelled with the host: a send that went out is recorded as sent.
                await RecordAsync(claim, attempt, outcome, delay, CancellationToken.None);
                metrics.Attempted(outcome.State);
                var id = claim.Notification.Id;
                switch (outcome.State)
                {
                    case DeliveryOutcome.Delivered:
                        LogDelivered(logger, id, claim.Notification.Notification.Rule, claim.Webhook, attempt);
                        break;
                    case DeliveryOutcome.Retry:
                        LogRetry(logger, id, claim.Webhook, attempt, outcome.Error, delay);
                        break;
                    default:
                        LogFailed(logger, id, claim.Webhook, attempt, outcome.Error);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: what this process claimed and did not record is due again at once for another instance (the
            // one cut short is sent again with the same idempotency key).
            await ReleaseAsync(due);
            LogReleased(logger, due.Count);
            throw;
        }
        return claimed.Count;
    }

    // Only deliveries to the webhooks this process knows: another instance configured otherwise leaves the rest alone.
    async Task<IReadOnlyList<DeliveryClaim>> ClaimAsync(CancellationToken cancellationToken)
    {
        if (_webhooks.Count == 0)
        {
            return [];
        }
        await using var command = dataSource.CreateCommand($"""
            with due as (
                select notification_id, webhook from notifications.deliveries
                where state = 'pending' and next_attempt_at <= now() and webhook = any($3)
                order by next_attempt_at, notification_id
                limit $1
                for update skip locked
            ), leased as (
                update notifications.deliveries d set next_attempt_at = now() + $2
                from due where d.notification_id = due.notification_id and d.webhook = due.webhook
                returning d.notification_id, d.webhook, d.attempts, d.next_attempt_at
            )
            select {StoredNotification.Columns}, l.webhook, l.attempts, l.next_attempt_at
            from leased l join notifications.notifications n on n.id = l.notification_id
            order by n.id, l.webhook
            """);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = options.Delivery.BatchSize });
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = Lease });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. _webhooks.Keys] });
        var due = new List<DeliveryClaim>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        const int c = StoredNotification.ColumnCount;
        while (await reader.ReadAsync(cancellationToken))
        {
            due.Add(new DeliveryClaim(StoredNotification.Read(reader), reader.GetString(c), reader.GetInt32(c + 1), reader.GetFieldValue<DateTimeOffset>(c + 2)));
        }
        return due;
    }

    // The claims still this process's, each held for another lease from now.
    async Task<IReadOnlyList<DeliveryClaim>> RenewAsync(IReadOnlyList<DeliveryClaim> claims, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            update notifications.deliveries d set next_attempt_at = now() + $4
            from unnest($1::bigint[], $2::text[], $3::timestamptz[]) as c (id, webhook, lease)
            where d.notification_id = c.id and d.webhook = c.webhook and d.state = 'pending' and d.next_attempt_at = c.lease
            returning d.notification_id, d.webhook, d.next_attempt_at
            """);
        AddClaims(command, claims);
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = Lease });
        var renewed = new Dictionary<(long, string), DateTimeOffset>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                renewed[(reader.GetInt64(0), reader.GetString(1))] = reader.GetFieldValue<DateTimeOffset>(2);
            }
        }
        return [.. claims.Where(c => renewed.ContainsKey((c.Notification.Id, c.Webhook))).Select(c => c with { Lease = renewed[(c.Notification.Id, c.Webhook)] })];
    }

    async Task ReleaseAsync(IReadOnlyList<DeliveryClaim> claims)
    {
        if (claims.Count == 0)
        {
            return;
        }
        await using var command = dataSource.CreateCommand("""
            update notifications.deliveries d set next_attempt_at = now()
            from unnest($1::bigint[], $2::text[], $3::timestamptz[]) as c (id, webhook, lease)
            where d.notification_id = c.id and d.webhook = c.webhook and d.state = 'pending' and d.next_attempt_at = c.lease
            """);
        AddClaims(command, claims);
        await command.ExecuteNonQueryAsync(CancellationToken.None);
    }

    static void AddClaims(NpgsqlCommand command, IReadOnlyList<DeliveryClaim> claims)
    {
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. claims.Select(c => c.Notification.Id)] });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. claims.Select(c => c.Webhook)] });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = [.. claims.Select(c => c.Lease.ToUniversalTime())] });
    }

    /// <summary>
    /// Deletes notifications written longer than <see cref="NotificationOptions.Retention"/> ago whose every delivery is
    /// settled (delivered or failed; their deliveries go with them), a small batch per statement; never one with a
    /// pending delivery, nor one that fires and is not resolved yet. Runs at start and then every few minutes.
    /// </summary>
    public async Task<long> PruneAsync(CancellationToken cancellationToken)
    {
        if (_sincePrune.IsRunning && _sincePrune.Elapsed < PruneInterval)
        {
            return 0;
        }
        long deleted = 0;
        int batch;
        do
        {
            await using var command = dataSource.CreateCommand("""
                with old as (
                    select n.id from notifications.notifications n
                    where n.created_at < now() - $1
                      and not exists (select from notifications.deliveries d where d.notification_id = n.id and d.state = 'pending')
                      and not exists (select from notifications.firing f where f.key = n.key)
                    order by n.created_at
                    limit $2
                    for update skip locked
                )
                delete from notifications.notifications n using old where n.id = old.id
                """);
            command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = options.Retention });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = PruneBatch });
            batch = await command.ExecuteNonQueryAsync(cancellationToken);
            deleted += batch;
        }
        while (batch == PruneBatch);
        _sincePrune.Restart();
        if (deleted > 0)
        {
            LogPruned(logger, deleted, options.Retention);
        }
        return deleted;
    }

    // Only while the claim is still this process's: one another instance took over (and may have delivered) is its to record.
    async Task RecordAsync(DeliveryClaim claim, int attempts, DeliveryOutcome outcome, TimeSpan delay, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            update notifications.deliveries
            set state = $3, attempts = $4, last_status = $5, last_error = $6,
                delivered_at = case when $3 = 'delivered' then now() end,
                next_attempt_at = now() + $7
            where notification_id = $1 and webhook = $2 and state = 'pending' and next_attempt_at = $8
            """);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = claim.Notification.Id });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = claim.Webhook });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = outcome.State == DeliveryOutcome.Retry ? "pending" : outcome.State });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = attempts });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)outcome.Status ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)outcome.Error ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = delay });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = claim.Lease.ToUniversalTime() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    async Task CountAsync(CancellationToken cancellationToken)
    {
        if (_sinceCount.IsRunning && _sinceCount.Elapsed < CountInterval)
        {
            return;
        }
        var counts = NotificationMetrics.DeliveryStates.ToDictionary(s => s, _ => 0L, StringComparer.Ordinal);
        await using var command = dataSource.CreateCommand("select state, count(*) from notifications.deliveries group by state");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }
        metrics.Deliveries = counts;
        _sinceCount.Restart();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Notification {NotificationId} ({Rule}) delivered to webhook {Webhook} at attempt {Attempt}")]
    static partial void LogDelivered(ILogger logger, long notificationId, string rule, string webhook, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Notification {NotificationId} not delivered to webhook {Webhook} at attempt {Attempt} ({Error}); retrying in {Delay}")]
    static partial void LogRetry(ILogger logger, long notificationId, string webhook, int attempt, string? error, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Notification {NotificationId} could not be delivered to webhook {Webhook} after {Attempt} attempts: {Error}")]
    static partial void LogFailed(ILogger logger, long notificationId, string webhook, int attempt, string? error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: released {Count} claimed deliveries for another instance")]
    static partial void LogReleased(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} settled notifications older than {Retention}")]
    static partial void LogPruned(ILogger logger, long count, TimeSpan retention);
}
