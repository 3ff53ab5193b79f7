using Streaming.Contracts.History;
using Streaming.Lifecycle;

namespace Streaming.LifecycleEvents;

/// <summary>Turns stored override events into the lifecycle core's overrides, and back.</summary>
public static class OverrideEvents
{
    public static JobOverride From(OverrideSet set) =>
        OverrideKinds.TryParse(set.Kind, out var kind)
            ? new JobOverride(set.OverrideId, kind, set.Phase, set.Actor, set.Reason, set.SetAt, set.ExpiresAt)
            : throw new InvalidDataException($"override {set.OverrideId} of job {set.JobId} has an unknown kind '{set.Kind}'");

    public static OverrideEnded Ended(string jobId, JobOverride ended, string reason, DateTimeOffset at) =>
        new(EventIds.ForOverrideEnd(ended.Id), ended.Id, jobId, OverrideKinds.Name(ended.Kind), reason, at);
}
