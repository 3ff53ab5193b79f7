namespace Streaming.Api.Notifications;

/// <summary>What one attempt came to: delivered, to be retried (after at least <paramref name="RetryAfter"/>), or failed for good.</summary>
public sealed record DeliveryOutcome(string State, int? Status, string? Error, TimeSpan? RetryAfter = null)
{
    public const string Delivered = "delivered";
    public const string Retry = "retry";
    public const string Failed = "failed";
}
