namespace Streaming.Contracts.History;

/// <summary>
/// The owner of the control partition gives a job a slot of a gate's wave (event type <c>admission-granted/v1</c>, in
/// the stream <c>admission:{policy}:{to}</c>), for the request <see cref="RequestId"/>. Its id derives from the
/// request, so every fold of the same log grants the same slots with the same ids. <see cref="GrantedAt"/> is the
/// event time of the request or release that freed the slot.
/// </summary>
public sealed record AdmissionGranted(Guid EventId, Guid RequestId, string JobId, string Policy, string From, string To, DateTimeOffset GrantedAt)
{
    public const string EventType = "admission-granted/v1";
}
