namespace Streaming.Contracts.History;

/// <summary>
/// The job sent no signal for longer than its policy's <see cref="Silence"/> (event type <c>job-silenced/v1</c>, in the
/// job's stream): its last signal (<see cref="LastSignalAt"/>) is older than the fleet's event-time
/// <see cref="Watermark"/> minus the silence. It is not promoted while silent; <see cref="Action"/> <c>demote</c> also
/// sends it back one phase, once. Its next signal clears it.
/// </summary>
public sealed record JobSilenced(
    Guid EventId,
    string JobId,
    string Policy,
    string Phase,
    DateTimeOffset LastSignalAt,
    DateTimeOffset Watermark,
    TimeSpan Silence,
    string Action)
{
    public const string EventType = "job-silenced/v1";
}
