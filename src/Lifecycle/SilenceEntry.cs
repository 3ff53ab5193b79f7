namespace Streaming.Lifecycle;

/// <summary>
/// What <see cref="SilenceWatch"/> keeps of a job a silence rule covers, as of its last signal: its policy and phase,
/// whether it had acknowledged the phase, whether the policy may move it (no override, no quarantine), when it turns
/// silent (<see cref="Deadline"/>), and whether it is.
/// </summary>
public sealed record SilenceEntry(
    string JobId,
    string Policy,
    string Phase,
    bool Acknowledged,
    bool Movable,
    DateTimeOffset LastSignalAt,
    long LastVersion,
    SilenceRule Rule,
    bool Silent = false)
{
    public DateTimeOffset Deadline => EventTimes.After(LastSignalAt, Rule.After);
}
