using System.Text.Json.Nodes;

namespace Streaming.Api.Notifications;

/// <summary>A page of notifications, newest first; <see cref="Next"/> is the <c>before</c> of the next page (null: the last).</summary>
public sealed record NotificationPage(IReadOnlyList<NotificationView> Notifications, long? Next);

/// <summary>A notification with each webhook's delivery.</summary>
public sealed record NotificationView(
    long Id,
    string Key,
    string Rule,
    string Severity,
    string Title,
    string Text,
    string? Subject,
    DateTimeOffset OccurredAt,
    DateTimeOffset CreatedAt,
    JsonNode? Details,
    IReadOnlyList<DeliveryView> Deliveries);

/// <summary>One webhook's delivery of a notification: its state, attempts, the last answer's status and error, when it is next tried.</summary>
public sealed record DeliveryView(
    string Webhook,
    string State,
    int Attempts,
    int? LastStatus,
    string? LastError,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset? DeliveredAt);
