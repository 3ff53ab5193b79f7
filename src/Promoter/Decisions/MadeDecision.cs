using Streaming.Lifecycle;

namespace Streaming.Promoter.Decisions;

/// <summary>A phase change the engine made, with the correlation id of the signal behind it (none for an override's).</summary>
public sealed record MadeDecision(PhaseDecision Decision, string? CorrelationId);
