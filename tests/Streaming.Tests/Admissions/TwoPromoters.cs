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

    /// <summary>Each job's phase as its latest recorded phase change says, or <paramref name="start"/>.</summary>
    public static Task<Dictionary<string, string>> PhasesAsync(SharingPipeline pipeline, IReadOnlyList<string> jobs, string start = "shadow") =>
        WaveInFlight.PhasesAsync(pipeline.Database, jobs, start: start);
}
