namespace Streaming.Lifecycle;

/// <summary>A job that changed phase <see cref="MaxPhaseChanges"/> times within <see cref="Within"/> is held for a person to look at.</summary>
public sealed record QuarantineRule(int MaxPhaseChanges, TimeSpan Within)
{
    /// <summary>The largest <see cref="MaxPhaseChanges"/> a policy may set: how many change times a job's state keeps.</summary>
    public const int MostChanges = 32;
}
