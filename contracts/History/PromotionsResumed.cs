namespace Streaming.Contracts.History;

/// <summary>
/// A pause ends (event type <c>promotions-resumed/v1</c>, in the pause's stream): an operator resumed the scope
/// (<see cref="PauseId"/> null: whatever pause is in force there), or the Promoter recorded that the pause
/// <see cref="PauseId"/> reached its end (<see cref="Expired"/>, actor <c>promoter</c>).
/// </summary>
public sealed record PromotionsResumed(Guid? PauseId, string? Policy, string? Phase, string Actor, string Reason, DateTimeOffset At, bool Expired = false)
{
    public const string EventType = "promotions-resumed/v1";
}
