namespace Streaming.Lifecycle;

/// <summary>
/// An operator's override of one job: who, why, when, and until when (judged in the job's event time; null: until
/// released). <see cref="Phase"/> is the phase a pin holds the job in.
/// </summary>
public sealed record JobOverride(
    Guid Id,
    OverrideKind Kind,
    string? Phase,
    string Actor,
    string Reason,
    DateTimeOffset SetAt,
    DateTimeOffset? ExpiresAt)
{
    /// <summary>Hold and pin stay in force until they expire or are released; the others act once.</summary>
    public bool Lasts => Kind is OverrideKind.Hold or OverrideKind.Pin;
}
