namespace Streaming.Api.Fleet;

/// <summary>The fleet over event time: jobs per phase at the end of each hour, and promotions and demotions in each hour.</summary>
public sealed record FleetHistory(IReadOnlyList<DateTimeOffset> Hours, IReadOnlyList<PhaseSeries> Phases, IReadOnlyList<MoveSeries> Moves);

public sealed record PhaseSeries(string Phase, IReadOnlyList<int> Jobs);

public sealed record MoveSeries(string Direction, IReadOnlyList<int> Moves);

/// <summary>One phase change in the fleet's decision feed; <see cref="Cursor"/> pages on from it.</summary>
public sealed record FeedDecision(long Cursor, Guid EventId, string JobId, string From, string To, string Direction, string Policy,
    DateTimeOffset DecidedAt, DateTimeOffset RecordedAt, string Reason);

/// <summary>A page of the decision feed, newest first; <see cref="Next"/> is the cursor of the following page (null at the end).</summary>
public sealed record FeedPage(IReadOnlyList<FeedDecision> Decisions, long? Next);
