using Streaming.EventStore;

namespace Streaming.Promoter.Decisions;

/// <summary>An event the engine decided to record in a stream other than the deciding job's: a job's silence, a pause's end.</summary>
public sealed record StreamAppend(string StreamId, EventToAppend Event);
