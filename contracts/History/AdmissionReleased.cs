namespace Streaming.Contracts.History;

/// <summary>
/// A job gives back its request or its slot of a gate's wave (event type <c>admission-released/v1</c>, in the stream
/// <c>admission:{policy}:{phase}</c>), once per request: <see cref="Why"/> is <c>soaked</c> (its soak in the phase
/// ended), <c>left</c> (it left the phase or its policy otherwise), <c>demoted</c>, <c>withdrawn</c> (it stopped
/// wanting the promotion it asked for before a slot came) or <c>unused</c> (a slot came but it no longer qualifies).
/// </summary>
public sealed record AdmissionReleased(Guid EventId, Guid RequestId, string JobId, string Policy, string Phase, string Why, DateTimeOffset At)
{
    public const string EventType = "admission-released/v1";

    public const string Soaked = "soaked";
    public const string Left = "left";
    public const string Demoted = "demoted";
    public const string Withdrawn = "withdrawn";
    public const string Unused = "unused";
}
