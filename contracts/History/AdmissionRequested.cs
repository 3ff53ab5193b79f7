namespace Streaming.Contracts.History;

/// <summary>
/// A job asks for a slot of a gate's wave (event type <c>admission-requested/v1</c>, in the stream
/// <c>admission:{policy}:{to}</c>), once per wait: the Promoter that holds the job writes it when the policy would
/// promote the job <see cref="From"/> → <see cref="To"/> and the gate has a wave, with several Promoters (Owner mode).
/// <see cref="PhaseChanges"/> is how many times the job had changed phase when it asked: a slot granted to the job
/// serves only while it has not moved since. <see cref="RequestedAt"/> is the event time of the signal that asked.
/// </summary>
public sealed record AdmissionRequested(
    Guid RequestId,
    string JobId,
    string Policy,
    string From,
    string To,
    int Priority,
    DateTimeOffset RequestedAt,
    long JobVersion,
    int PhaseChanges)
{
    public const string EventType = "admission-requested/v1";

    public const string StreamPrefix = "admission:";

    public static string StreamFor(string policy, string phase) => $"{StreamPrefix}{policy}:{phase}";
}
