namespace Streaming.Api.Notifications;

/// <summary>A page of notifications, newest first; <see cref="Next"/> is the <c>before</c> of the next page (null: the last).</summary>
public sealed record NotificationPage(IReadOnlyList<NotificationView> Notifications, long? Next);
