namespace Streaming.Api.Notifications;

/// <summary>One webhook's delivery of a notification: its state, attempts, the last answer's status and error, when it is next tried.</summary>
public sealed record DeliveryView(
    string Webhook,
    string State,
    int Attempts,
    int? LastStatus,
    string? LastError,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset? DeliveredAt);
