using Confluent.Kafka;
using Streaming.Contracts;
using Streaming.Contracts.History;
using Streaming.Promoter.Decisions;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;
using Streaming.Tests.Ownership;

namespace Streaming.Tests.Admissions;

/// <summary>Two Promoter processes of one group sharing a <see cref="SharingPipeline"/>'s partitions (Owner mode), as the process tests of the fleet-wide controls run them.</summary>
public sealed class TwoPromoters
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    public static readonly int[] Every = [.. Enumerable.Range(0, PartitionedDatabase.Partitions)];

    TwoPromoters(ServiceProcess first, ServiceProcess second)
    {
        First = first;
        Second = second;
    }

    public ServiceProcess First { get; }

    public ServiceProcess Second { get; }

    /// <summary>Starts both, in Owner mode with the policy folder given, and waits until they have split the partitions.</summary>
    public static async Task<TwoPromoters> StartAsync(SharingPipeline pipeline, string policyDirectory)
    {
        var settings = new Dictionary<string, string>
        {
            ["Promoter__PolicyDirectory"] = policyDirectory,
            ["Promoter__Admissions"] = "owner",
            // Each minute of the tests waits for the Promoters' checkpoints: written 200 ms after a quiet moment.
            ["Promoter__StateWriteInterval"] = "00:00:00.200",
        };
        var first = pipeline.StartOwner("Promoter", "promoter-1", settings);
        var second = pipeline.StartOwner("Promoter", "promoter-2", settings);
        await Eventually.True(() => Task.FromResult(FollowedShare.Of(first).Count > 0 && FollowedShare.Of(second).Count > 0
            && FollowedShare.Of(first).Concat(FollowedShare.Of(second)).Order().SequenceEqual(Every)), Timeout, "the two Promoters to split the partitions");
        return new TwoPromoters(first, second);
    }

    /// <summary>Kills (SIGKILL) the owner of the control partition and waits until the other follows every partition; returns which was killed.</summary>
    public async Task<string> KillOwnerAsync()
    {
        var owner = FollowedShare.Of(First).Contains(0) ? First : Second;
        var other = owner == First ? Second : First;
        await owner.KillAsync();
        await Eventually.True(() => Task.FromResult(FollowedShare.Of(other).SequenceEqual(Every)), Timeout, "the other Promoter to take every partition");
        return owner == First ? "promoter-1" : "promoter-2";
    }

    /// <summary>
    /// Produces each job's signal of <paramref name="minute"/> (seq minute + 1, in its phase in <paramref name="phases"/>),
    /// then waits until each is stored and the Promoters processed it: processed means up to a job's last stored event.
    /// </summary>
    public static async Task SignalMinuteAsync(
        SharingPipeline pipeline, IProducer<string, byte[]> producer, IReadOnlyDictionary<string, string> phases, int minute, IReadOnlyDictionary<string, double> metrics)
    {
        var store = new StoreProbe(pipeline.Database);
        var stored = new Dictionary<string, long>();
        foreach (var job in phases.Keys)
        {
            stored[job] = await store.CountEventsAsync(job, SignalRecorded.EventType);
        }
        producer.Produce(phases.Select(p => SignalFactory.Signal(p.Key, minute + 1, SignalFactory.Start.AddMinutes(minute), p.Value, metrics)));
        foreach (var job in phases.Keys)
        {
            await Eventually.True(async () => await store.CountEventsAsync(job, SignalRecorded.EventType) > stored[job], Timeout, $"{job}'s signal of minute {minute} to be stored",
                () => UnstoredSignals.DescribeAsync(pipeline.Database, pipeline.Kafka.BootstrapServers, pipeline.Partitions, pipeline.IngestServices, producer));
            await Eventually.True(() => store.HasProcessedAsync(DecisionFold.CheckpointName, job), Timeout, $"the Promoters to process {job} at minute {minute}");
        }
    }

    /// <summary>Each job's phase as its latest recorded phase change says, or <paramref name="start"/>.</summary>
    public static Task<Dictionary<string, string>> PhasesAsync(SharingPipeline pipeline, IReadOnlyList<string> jobs, string start = "shadow") =>
        WaveInFlight.PhasesAsync(pipeline.Database, jobs, start: start);
}
