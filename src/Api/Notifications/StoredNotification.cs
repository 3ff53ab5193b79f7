namespace Streaming.Api.Notifications;

/// <summary>A notification as the outbox holds it (its details as JSON text).</summary>
public sealed record StoredNotification(
    long Id,
    string Key,
    string Rule,
    string Severity,
    string Title,
    string Text,
    string? Subject,
    DateTimeOffset OccurredAt,
    DateTimeOffset CreatedAt,
    string Details);
