using System.Globalization;
using System.Text.Json.Nodes;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.Projections.Tail;

namespace Streaming.Api.Notifications;

/// <summary>
/// The notifications the log itself carries: a circuit breaker opening (by its rule, or tripped by hand) and closing
/// again (resolving the opening's notification), and a decision that quarantined a job. Runs as a <see cref="TransactionalFold"/>, so each batch's notifications commit with the
/// fold's checkpoint: a restart resumes after the last batch told, and a batch told twice (an unacknowledged commit)
/// finds its keys (the event's id) already there. Cool-downs count in event time, so a replay tells the same. With
/// several store shards it also reads the log of each other shard (<see cref="HandleShardAsync"/>), for its quarantines.
/// </summary>
public sealed class NotificationFold(NpgsqlDataSource home, NotificationOptions options, NotificationOutbox outbox, FiringConditions conditions, TimeProvider clock)
{
    public const string CheckpointName = "notifications";

    public async Task HandleAsync(IReadOnlyList<LogEvent> events, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var oldest = clock.GetUtcNow() - options.MaxAge;
        foreach (var logEvent in events)
        {
            if (logEvent.Event.RecordedAt < oldest)
            {
                continue;
            }
            switch (logEvent.Body)
            {
                case CircuitBreakerChanged { State: CircuitBreakerChanged.Open } opened when options.Rules.BreakerOpened.Enabled:
                    var notification = BreakerOpened(logEvent, opened);
                    if (!await CoolingDownAsync(notification, transaction, cancellationToken))
                    {
                        await outbox.AddAsync(transaction, [notification], cancellationToken);
                        await FiringConditions.FiredAsync(transaction, notification.Rule, notification.Subject!, notification.Key, cancellationToken);
                    }
                    break;
                case CircuitBreakerChanged { State: CircuitBreakerChanged.Closed } closed when options.Rules.BreakerOpened.Enabled:
                    await BreakerClosedAsync(logEvent, closed, transaction, cancellationToken);
                    break;
                case PhaseChanged { Quarantined: true } change when options.Rules.Quarantined.Enabled:
                    var quarantined = Quarantined(logEvent, change);
                    if (!await CoolingDownAsync(quarantined, transaction, cancellationToken))
                    {
                        await outbox.AddAsync(transaction, [quarantined], cancellationToken);
                    }
                    break;
            }
        }
    }

    /// <summary>
    /// A batch of the log of a shard other than 0: its quarantines are told from the outbox on shard 0 (the API's own),
    /// in a transaction there that commits before the shard's checkpoint moves, so a batch read again finds them told.
    /// The breakers are not: their streams are shard 0's, of which the other shards hold copies.
    /// </summary>
    public async Task HandleShardAsync(IReadOnlyList<LogEvent> events, NpgsqlTransaction shardTransaction, CancellationToken cancellationToken)
    {
        var quarantines = events.Where(e => e.Type == PhaseChanged.EventType && e.Body is PhaseChanged { Quarantined: true }).ToList();
        if (quarantines.Count == 0)
        {
            return;
        }
        await using var connection = await home.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await HandleAsync(quarantines, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    // A breaker that closes (reset by an operator, or by its policy) resolves the notification its opening sent, if one was sent.
    async Task BreakerClosedAsync(LogEvent logEvent, CircuitBreakerChanged closed, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var subject = $"{closed.Policy}/{closed.Phase}";
        if (await FiringConditions.FindAsync(transaction, NotificationRules.BreakerOpenedName, subject, cancellationToken) is not { } firing)
        {
            return;
        }
        await conditions.ResolveAsync(transaction, NotificationRules.BreakerOpenedName, subject, firing, closed.At,
            $"Circuit breaker closed: promotions into {closed.Phase} ({closed.Policy}) resume. {closed.Reason}",
            new JsonObject
            {
                ["policy"] = closed.Policy,
                ["phase"] = closed.Phase,
                ["demotions"] = closed.Demotions,
                ["jobs"] = closed.Jobs,
                ["reason"] = closed.Reason,
                ["eventId"] = logEvent.Event.EventId.ToString(),
            }, cancellationToken);
    }

    static Notification BreakerOpened(LogEvent logEvent, CircuitBreakerChanged opened) => new(
        $"{NotificationRules.BreakerOpenedName}:{logEvent.Event.EventId}",
        NotificationRules.BreakerOpenedName,
        Notification.Critical,
        $"Circuit breaker open: promotions into {opened.Phase} ({opened.Policy}) are paused",
        string.Create(CultureInfo.InvariantCulture,
            $"{opened.Reason.TrimEnd('.')} ({opened.Demotions} demotions against {opened.Jobs} jobs within {opened.Window}; the limit is {opened.MaxDemotionShare:P0})."),
        $"{opened.Policy}/{opened.Phase}",
        opened.At,
        new JsonObject
        {
            ["policy"] = opened.Policy,
            ["phase"] = opened.Phase,
            ["demotions"] = opened.Demotions,
            ["jobs"] = opened.Jobs,
            ["maxDemotionShare"] = opened.MaxDemotionShare,
            ["window"] = opened.Window.ToString("c", CultureInfo.InvariantCulture),
            ["reason"] = opened.Reason,
            ["eventId"] = logEvent.Event.EventId.ToString(),
        });

    static Notification Quarantined(LogEvent logEvent, PhaseChanged change) => new(
        $"{NotificationRules.QuarantinedName}:{logEvent.Event.EventId}",
        NotificationRules.QuarantinedName,
        Notification.Warning,
        $"Job quarantined: {change.JobId}",
        $"{change.JobId} moved from {change.From} to {change.To} and is quarantined: {change.Reason}",
        change.JobId,
        change.DecidedAt,
        new JsonObject
        {
            ["jobId"] = change.JobId,
            ["from"] = change.From,
            ["to"] = change.To,
            ["direction"] = change.Direction,
            ["policy"] = change.Policy,
            ["reason"] = change.Reason,
            ["eventId"] = logEvent.Event.EventId.ToString(),
        });

    // Whether the rule told about the same subject within its cool-down before this one (in event time).
    async Task<bool> CoolingDownAsync(Notification candidate, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var coolDown = candidate.Rule == NotificationRules.BreakerOpenedName ? options.Rules.BreakerOpened.CoolDown : options.Rules.Quarantined.CoolDown;
        if (coolDown <= TimeSpan.Zero)
        {
            return false;
        }
        await using var command = new NpgsqlCommand("""
            select exists (select from notifications.notifications
                           where rule = $1 and subject = $2 and status = 'firing' and occurred_at <= $3 and occurred_at > $4 and key <> $5)
            """, transaction.Connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = candidate.Rule });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = candidate.Subject! });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = candidate.OccurredAt.ToUniversalTime() });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = (candidate.OccurredAt - coolDown).ToUniversalTime() });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = candidate.Key });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
