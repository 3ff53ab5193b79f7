namespace Streaming.Promoter.Decisions;

/// <summary>
/// Who decides a wave's slots and opens and closes the circuit breakers. <see cref="Local"/>: the engine itself, as one
/// Promoter over the whole log (<see cref="Streaming.Lifecycle.FleetControl"/>). <see cref="Owner"/>: the owner of the
/// control partition, through the admission streams (<see cref="Streaming.Lifecycle.Admissions.AdmissionLedger"/>) and
/// the breaker streams (<see cref="Streaming.Lifecycle.Breakers.BreakerLedger"/>), for several Promoters or shards.
/// </summary>
public enum AdmissionMode
{
    Local,
    Owner,
}
