namespace Streaming.Contracts.History;

/// <summary>
/// An operator pauses promotions (event type <c>promotions-paused/v1</c>, in the stream <see cref="StreamFor"/>): of the
/// whole fleet (no <see cref="Policy"/>), of a policy, or into one <see cref="Phase"/> of a policy. Promotions there wait
/// (each job's with a <c>promotion-deferred/v1</c> of cause <c>paused</c>); demotions go on unless the policy says
/// <c>pauseDemotions: true</c>. With <see cref="For"/> it ends by itself once the fleet's event time has moved that far
/// past the pause's place in the log. A new pause of the same scope replaces the one in force.
/// </summary>
public sealed record PromotionsPaused(Guid PauseId, string? Policy, string? Phase, string Actor, string Reason, TimeSpan? For, DateTimeOffset At)
{
    public const string EventType = "promotions-paused/v1";

    public const string StreamPrefix = "pause:";

    public static string StreamFor(string? policy, string? phase) =>
        policy is null ? StreamPrefix + "fleet" : phase is null ? $"{StreamPrefix}policy:{policy}" : $"{StreamPrefix}gate:{policy}:{phase}";
}
