using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.PhaseChanges;
using Streaming.EventStore;

namespace Streaming.Tests.Delivery;

/// <summary>Phase changes written straight into jobs' streams, as the Promoter records them, for the relays to publish.</summary>
static class RecordedDecisions
{
    static readonly string[] Phases = ["shadow", "reverse_shadow", "cleanup", "done"];
    static readonly DateTimeOffset Start = new(2026, 4, 6, 8, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Appends <paramref name="count"/> more decisions to each job's stream in one transaction, as the Promoter records a
    /// batch; returns their event ids by job.
    /// </summary>
    public static async Task<Dictionary<string, List<Guid>>> AppendAsync(EventStreams streams, IReadOnlyList<string> jobs, int count)
    {
        var versions = new Dictionary<string, long>();
        foreach (var job in jobs)
        {
            versions[job] = await streams.ReadVersionAsync(job, CancellationToken.None);
        }
        var batch = jobs.ToDictionary(job => job, job => Enumerable.Range((int)versions[job] + 1, count).Select(v => Decision(job, v)).ToList());
        await streams.InTransactionAsync(async transaction =>
        {
            foreach (var (job, events) in batch)
            {
                await streams.AppendToStreamAsync(transaction, job, versions[job], events, CancellationToken.None);
            }
            return 0;
        }, CancellationToken.None);
        return batch.ToDictionary(b => b.Key, b => b.Value.Select(e => e.EventId).ToList());
    }

    static EventToAppend Decision(string job, int version)
    {
        var change = new PhaseChanged(
            EventIds.ForDecision(job, version), job, Phases[(version - 1) % 3], Phases[version % 3], PhaseDirection.Promote,
            $"test decision {version}", Start.AddMinutes(version), "cdc-migration@1", version, version, version, []);
        return new EventToAppend(
            change.EventId, PhaseChanged.EventType, ContractsJson.Serialize(change), ContractsJson.Serialize(new EventMetadata(null, null)),
            change.DecidedAt);
    }
}
