using System.Text.Json;

namespace Streaming.Lifecycle;

/// <summary>The stored form of <see cref="FleetControl"/> (JSON), saved with the Promoter's checkpoint.</summary>
public static class FleetControlSnapshot
{
    sealed record Phase(
        string Policy,
        string Name,
        int Jobs,
        Dictionary<string, DateTimeOffset> InFlight,
        DateTimeOffset[] Promotions,
        DateTimeOffset[] Demotions,
        DateTimeOffset? BreakerOpenSince,
        int BreakerChanges,
        QueuedJob[] Queue,
        bool Tripped = false);

    public static byte[] Write(FleetControl fleet) =>
        JsonSerializer.SerializeToUtf8Bytes(fleet.Phases.Values.Select(t => new Phase(
            t.Policy, t.Phase, t.Jobs, new Dictionary<string, DateTimeOffset>(t.InFlight), [.. t.Promotions], [.. t.Demotions],
            t.BreakerOpenSince, t.BreakerChanges, [.. t.Queue.Values], t.Tripped)).ToArray());

    public static FleetControl Read(byte[] snapshot)
    {
        var fleet = new FleetControl();
        foreach (var phase in JsonSerializer.Deserialize<Phase[]>(snapshot) ?? [])
        {
            var traffic = fleet.Traffic(phase.Policy, phase.Name);
            traffic.Jobs = phase.Jobs;
            foreach (var (job, at) in phase.InFlight)
            {
                traffic.InFlight[job] = at;
                fleet.NoteInFlight();
            }
            foreach (var at in phase.Promotions)
            {
                traffic.Promotions.Enqueue(at);
            }
            foreach (var at in phase.Demotions)
            {
                traffic.Demotions.Enqueue(at);
            }
            traffic.BreakerOpenSince = phase.BreakerOpenSince;
            traffic.BreakerChanges = phase.BreakerChanges;
            traffic.Tripped = phase.Tripped;
            foreach (var queued in phase.Queue)
            {
                traffic.Queue[queued.JobId] = queued;
            }
        }
        return fleet;
    }
}
