namespace Streaming.Lifecycle;

/// <summary>
/// The way from one phase to the next. A job in <see cref="From"/> is promoted once it has been there for
/// <see cref="Soak"/> and the <see cref="Promote"/> rule passed its number of consecutive evaluations. A job admitted to
/// <see cref="To"/> through this gate is sent back when the <see cref="Demote"/> rule failed its number of consecutive
/// evaluations (null: never). Evaluations run at every signal that reports the job's assigned phase. <see cref="Wave"/>
/// caps how many jobs move through at once, and <see cref="Breaker"/> pauses promotions when too many come back.
/// <see cref="ApprovalRequired"/>: a job whose criteria pass waits for an operator's approval before it moves.
/// </summary>
public sealed record PhaseGate(string From, string To, TimeSpan Soak, GateRule Promote, GateRule? Demote, WaveRule? Wave = null, BreakerRule? Breaker = null,
    bool ApprovalRequired = false);
