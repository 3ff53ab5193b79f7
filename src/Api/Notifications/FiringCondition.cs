namespace Streaming.Api.Notifications;

/// <summary>
/// A periodic condition told as firing and not yet resolved: the key of the notification that fired, and since when it
/// has been seen back under its threshold (null: over it at the last check). A condition is resolved only once it has
/// stayed clear for the hold (like Alertmanager's <c>resolve_timeout</c>), so one flapping around its threshold sends
/// neither a storm of resolutions nor one at each dip.
/// </summary>
public sealed record FiringCondition(string Key, DateTimeOffset? ClearSince)
{
    /// <summary>The condition after a check that found it <paramref name="clear"/> (or not) at <paramref name="now"/>, and whether it is resolved now.</summary>
    public (FiringCondition Next, bool Resolved) Checked(bool clear, DateTimeOffset now, TimeSpan hold)
    {
        if (!clear)
        {
            return (this with { ClearSince = null }, false);
        }
        var since = ClearSince ?? now;
        return (this with { ClearSince = since }, now - since >= hold);
    }
}
