namespace Streaming.Hosting.Resilience;

/// <summary>One loop's condition as last reported.</summary>
public sealed record LoopState(string Loop, LoopCondition Condition, DateTimeOffset? Since, string? Reason);
