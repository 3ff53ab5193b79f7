namespace Streaming.Api.Fleet;

/// <summary>Which decisions the feed returns: by direction, policy name, phase (moved from or to), event time range, before a cursor.</summary>
public sealed record FeedFilter(string? Direction, string? Policy, string? Phase, DateTimeOffset? From, DateTimeOffset? To, long? Before, int Limit, string? JobId = null);
