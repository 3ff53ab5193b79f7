namespace Streaming.Lifecycle;

/// <summary>
/// An operator's pause of promotions: of the whole fleet (no <see cref="Policy"/>), of one policy, or of the gate into
/// <see cref="Phase"/> of one policy; with who, why, when (<see cref="At"/>, the operator's clock) and, when it was
/// given a duration, the fleet's event time at which it ends (<see cref="Until"/>).
/// </summary>
public sealed record Pause(Guid Id, string? Policy, string? Phase, string Actor, string Reason, DateTimeOffset At, DateTimeOffset? Until)
{
    public string Scope => PauseScopes.Describe(Policy, Phase);

    public bool Covers(string policy, string phase) =>
        Policy is null || string.Equals(Policy, policy, StringComparison.Ordinal) && (Phase is null || string.Equals(Phase, phase, StringComparison.Ordinal));
}
