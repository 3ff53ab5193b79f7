using System.Globalization;
using System.Text.Json.Nodes;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.Projections.Tail;

namespace Streaming.Api.Notifications;

/// <summary>
/// The notifications the log itself carries: a circuit breaker opening (by its rule, or tripped by hand) and a decision
/// that quarantined a job. Runs as a <see cref="TransactionalFold"/>, so each batch's notifications commit with the
/// fold's checkpoint: a restart resumes after the last batch told, and a batch told twice (an unacknowledged commit)
/// finds its keys (the event's id) already there. Cool-downs count in event time, so a replay tells the same.
/// </summary>
public sealed class NotificationFold(NotificationOptions options, NotificationOutbox outbox, TimeProvider clock)
{
    public const string CheckpointName = "notifications";

    public async Task HandleAsync(IReadOnlyList<LogEvent> events, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var oldest = clock.GetUtcNow() - options.MaxAge;
        var told = new List<Notification>();
        foreach (var logEvent in events)
        {
            if (logEvent.Event.RecordedAt < oldest)
            {
                continue;
            }
            var candidate = logEvent.Body switch
            {
                CircuitBreakerChanged { State: CircuitBreakerChanged.Open } opened when options.Rules.BreakerOpened.Enabled => BreakerOpened(logEvent, opened),
                PhaseChanged { Quarantined: true } change when options.Rules.Quarantined.Enabled => Quarantined(logEvent, change),
                _ => null,
            };
            if (candidate is not null && !await CoolingDownAsync(candidate, told, transaction, cancellationToken))
            {
                told.Add(candidate);
            }
        }
        await outbox.AddAsync(transaction, told, cancellationToken);
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
    async Task<bool> CoolingDownAsync(Notification candidate, List<Notification> batch, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var coolDown = candidate.Rule == NotificationRules.BreakerOpenedName ? options.Rules.BreakerOpened.CoolDown : options.Rules.Quarantined.CoolDown;
        if (coolDown <= TimeSpan.Zero)
        {
            return false;
        }
        bool Recent(DateTimeOffset at) => at <= candidate.OccurredAt && at > candidate.OccurredAt - coolDown;
        if (batch.Any(n => n.Rule == candidate.Rule && n.Subject == candidate.Subject && Recent(n.OccurredAt)))
        {
            return true;
        }
        await using var command = new NpgsqlCommand("""
            select exists (select from notifications.notifications
                           where rule = $1 and subject = $2 and occurred_at <= $3 and occurred_at > $4 and key <> $5)
            """, transaction.Connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = candidate.Rule });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = candidate.Subject! });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = candidate.OccurredAt.ToUniversalTime() });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = (candidate.OccurredAt - coolDown).ToUniversalTime() });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = candidate.Key });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
