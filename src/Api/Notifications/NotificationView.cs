namespace Streaming.Api.Notifications;

/// <summary>A notification of the outbox (its row's id, when it was written, what it says) with each webhook's delivery.</summary>
public sealed record NotificationView(long Id, DateTimeOffset CreatedAt, Notification Notification, IReadOnlyList<DeliveryView> Deliveries);
