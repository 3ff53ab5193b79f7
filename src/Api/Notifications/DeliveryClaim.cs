namespace Streaming.Api.Notifications;

/// <summary>A delivery this process claimed: the notification, the webhook, attempts so far, and the lease it set (its claim's token).</summary>
public sealed record DeliveryClaim(StoredNotification Notification, string Webhook, int Attempts, DateTimeOffset Lease);
