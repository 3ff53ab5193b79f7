using Streaming.Projector;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;
using Streaming.Tests.Ownership;
using Xunit;
using Xunit.Abstractions;

namespace Streaming.Tests.Admissions;

/// <summary>
/// A wave capped at 2 with two Promoter processes sharing the log's partitions (Owner mode, as <c>./run.sh --instances 2</c>
/// runs them): recomputed from the log, never more than 2 jobs are promoted into the phase and not released, even when
/// the owner of the control partition is killed (SIGKILL) halfway.
/// </summary>
public sealed class SharedWaveTests(ITestOutputHelper output)
{
    static readonly TimeSpan Timeout = TwoPromoters.Timeout;
    static readonly int[] Every = TwoPromoters.Every;

    [Fact]
    public async Task Two_promoters_never_let_more_than_the_waves_cap_in_flight_even_when_the_owner_is_killed()
    {
        // Given two Promoter processes sharing 4 partitions, both with a policy whose wave lets 2 jobs into reverse_shadow
        using var folder = new TemporaryFolder();
        await File.WriteAllTextAsync(folder.PathOf("waves.yaml"), WaveInFlight.Policy);
        await using var pipeline = await SharingPipeline.StartAsync(b => b.AddProjector(), output.WriteLine);
        var promoters = await TwoPromoters.StartAsync(pipeline, folder.Path);
        var jobs = Every.SelectMany(p => Enumerable.Range(0, 3).Select(_ => PartitionedDatabase.JobIn(p))).ToList();
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);

        // When 12 healthy jobs signal once a minute, each in the phase it was last moved to, until all are promoted, and the
        // owner of the control partition is killed at minute 15 (a waved promotion takes a round trip through the owner, so
        // the minutes, which pass as fast as the jobs' own Promoters decide, may pass several times for one slot)
        for (var minute = 0; minute < 240; minute++)
        {
            if (minute == 15)
            {
                output.WriteLine($"minute {minute}: killed the owner of partition 0 ({await promoters.KillOwnerAsync()})");
            }
            var phases = await TwoPromoters.PhasesAsync(pipeline, jobs);
            if (phases.Values.All(phase => phase == "reverse_shadow"))
            {
                output.WriteLine($"every job promoted by minute {minute}");
                break;
            }
            await TwoPromoters.SignalMinuteAsync(pipeline, producer, phases, minute, SignalFactory.Good);
        }

        // Then, recomputed from the log, never more than 2 jobs held a slot, nor were promoted with one not given back, and
        // every promotion into reverse_shadow had its grant before it
        var (mostGranted, mostPromoted, promotions) = await InFlightAsync(pipeline);
        output.WriteLine($"promotions into reverse_shadow: {promotions}; most slots held at once: {mostGranted}; most promoted and not released: {mostPromoted}");
        Assert.InRange(mostGranted, 1, WaveInFlight.Cap);
        Assert.InRange(mostPromoted, 1, WaveInFlight.Cap);
        Assert.Equal(jobs.Count, promotions);
    }

    static async Task<(int MostGranted, int MostPromoted, int Promotions)> InFlightAsync(SharingPipeline pipeline) =>
        WaveInFlight.Walk(await new StoreProbe(pipeline.Database).EventsAsync(WaveInFlight.Types));
}
