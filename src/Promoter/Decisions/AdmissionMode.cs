namespace Streaming.Promoter.Decisions;

/// <summary>
/// Who decides a wave's slots. <see cref="Local"/>: the engine itself, as one Promoter over the whole log
/// (<see cref="Streaming.Lifecycle.FleetControl"/>). <see cref="Owner"/>: the owner of the control partition, through
/// the admission streams (<see cref="Streaming.Lifecycle.Admissions.AdmissionLedger"/>), for several Promoters or shards.
/// </summary>
public enum AdmissionMode
{
    Local,
    Owner,
}
