using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Hosting.Resilience;

namespace Streaming.Api.Notifications;

/// <summary>
/// Delivers the outbox: claims due deliveries (a lease, so instances and a restarted process never send one twice at
/// once), sends each, and records what came of it: delivered (never sent again), retried after a capped exponential
/// backoff with jitter (or the answer's Retry-After), or failed for good after <see cref="DeliveryOptions.MaxAttempts"/>
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

    readonly Dictionary<string, WebhookOptions> _webhooks = options.Webhooks.ToDictionary(w => w.Name, StringComparer.Ordinal);
    readonly Stopwatch _sinceCount = new();

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

    /// <summary>Sends what is due once; returns how many deliveries it attempted.</summary>
    public async Task<int> DeliverDueAsync(CancellationToken cancellationToken)
    {
        var due = await ClaimAsync(cancellationToken);
        for (var i = 0; i < due.Count; i++)
        {
            var (notification, webhookName, attempts) = due[i];
            DeliveryOutcome outcome;
            try
            {
                outcome = await sender.SendAsync(_webhooks[webhookName], notification, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopping: what was claimed and not recorded is due again at once for the next process (the one cut
                // short is sent again with the same idempotency key).
                await ReleaseAsync(due.Skip(i).Select(d => (d.Notification.Id, d.Webhook)).ToList());
                throw;
            }
            var attempt = attempts + 1;
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
            await RecordAsync(notification.Id, webhookName, attempt, outcome, delay, CancellationToken.None);
            metrics.Attempted(outcome.State);
            switch (outcome.State)
            {
                case DeliveryOutcome.Delivered:
                    LogDelivered(logger, notification.Id, notification.Rule, webhookName, attempt);
                    break;
                case DeliveryOutcome.Retry:
                    LogRetry(logger, notification.Id, webhookName, attempt, outcome.Error, delay);
                    break;
                default:
                    LogFailed(logger, notification.Id, webhookName, attempt, outcome.Error);
                    break;
            }
        }
        return due.Count;
    }

    // Only deliveries to the webhooks this process knows: another instance configured otherwise leaves the rest alone.
    async Task<List<(StoredNotification Notification, string Webhook, int Attempts)>> ClaimAsync(CancellationToken cancellationToken)
    {
        if (_webhooks.Count == 0)
        {
            return [];
        }
        // Long enough for the batch's sends; a process that dies holding it leaves its deliveries due when it ends.
        var lease = options.Delivery.Timeout * options.Delivery.BatchSize + TimeSpan.FromSeconds(5);
        await using var command = dataSource.CreateCommand("""
            with due as (
                select notification_id, webhook from notifications.deliveries
                where state = 'pending' and next_attempt_at <= now() and webhook = any($3)
                order by next_attempt_at, notification_id
                limit $1
                for update skip locked
            ), leased as (
                update notifications.deliveries d set next_attempt_at = now() + $2
                from due where d.notification_id = due.notification_id and d.webhook = due.webhook
                returning d.notification_id, d.webhook, d.attempts
            )
            select n.id, n.key, n.rule, n.severity, n.title, n.text, n.subject, n.occurred_at, n.created_at, n.details::text, l.webhook, l.attempts
            from leased l join notifications.notifications n on n.id = l.notification_id
            order by n.id
            """);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = options.Delivery.BatchSize });
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = lease });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. _webhooks.Keys] });
        var due = new List<(StoredNotification, string, int)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            due.Add((new StoredNotification(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetFieldValue<DateTimeOffset>(7), reader.GetFieldValue<DateTimeOffset>(8),
                reader.GetString(9)), reader.GetString(10), reader.GetInt32(11)));
        }
        return due;
    }

    async Task ReleaseAsync(List<(long Id, string Webhook)> claimed)
    {
        await using var command = dataSource.CreateCommand("""
            update notifications.deliveries d set next_attempt_at = now()
            from unnest($1::bigint[], $2::text[]) as c (id, webhook)
            where d.notification_id = c.id and d.webhook = c.webhook and d.state = 'pending'
            """);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. claimed.Select(c => c.Id)] });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. claimed.Select(c => c.Webhook)] });
        await command.ExecuteNonQueryAsync(CancellationToken.None);
    }

    async Task RecordAsync(long id, string webhook, int attempts, DeliveryOutcome outcome, TimeSpan delay, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            update notifications.deliveries
            set state = $3, attempts = $4, last_status = $5, last_error = $6,
                delivered_at = case when $3 = 'delivered' then now() end,
                next_attempt_at = now() + $7
            where notification_id = $1 and webhook = $2
            """);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = webhook });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = outcome.State == DeliveryOutcome.Retry ? "pending" : outcome.State });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = attempts });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)outcome.Status ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)outcome.Error ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = delay });
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
}
