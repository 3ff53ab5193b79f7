using Streaming.Contracts.History;
using Streaming.Projector;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;
using Streaming.Tests.Ownership;
using Xunit;
using Xunit.Abstractions;

namespace Streaming.Tests.Admissions;

/// <summary>
/// A circuit breaker with two Promoter processes sharing the log's partitions (Owner mode, as <c>./run.sh --instances 2</c>
/// runs them): demotions spread over both shares, neither of which holds <c>minJobs</c> jobs, open it fleet-wide; every
/// Promoter holds promotions into the phase until the owner closes it, even when the owner of the control partition is
/// killed (SIGKILL) while it is open.
/// </summary>
public sealed class SharedBreakerTests(ITestOutputHelper output)
{
    static readonly TimeSpan Timeout = TwoPromoters.Timeout;
    static readonly int[] Every = TwoPromoters.Every;

    [Fact]
    public async Task Two_promoters_hold_promotions_by_a_breaker_opened_on_the_fleets_demotions_until_the_owner_closes_it_even_when_it_is_killed()
    {
        // Given two Promoter processes sharing 4 partitions, with a breaker on reverse_shadow that counts from 10 jobs
        using var folder = new TemporaryFolder();
        await File.WriteAllTextAsync(folder.PathOf("breakers.yaml"), BreakerWalk.Policy);
        await using var pipeline = await SharingPipeline.StartAsync(b => b.AddProjector(), output.WriteLine);
        var promoters = await TwoPromoters.StartAsync(pipeline, folder.Path);
        var inB = Every.SelectMany(p => Enumerable.Range(0, 3).Select(_ => PartitionedDatabase.JobIn(p))).ToList();
        var inA = Every.Select(PartitionedDatabase.JobIn).ToList();
        // One of reverse_shadow's jobs in each partition fails: both Promoters' shares (each fewer than 10 jobs) demote some.
        var failing = Every.Select(p => inB[p * 3]).ToList();
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        async Task MinuteAsync(IReadOnlyList<string> jobs, int minute, string phase, IReadOnlyDictionary<string, double> metrics) =>
            await TwoPromoters.SignalMinuteAsync(pipeline, producer, await TwoPromoters.PhasesAsync(pipeline, jobs, phase), minute, metrics);

        // When 12 jobs report reverse_shadow for three minutes and four of them, spread over the partitions, fail at minute 3
        for (var minute = 0; minute < 3; minute++)
        {
            await MinuteAsync(inB, minute, "reverse_shadow", SignalFactory.Good);
        }
        await MinuteAsync(failing, 3, "reverse_shadow", SignalFactory.Failing);

        // Then the owner opens the breaker on the fleet's counts: 4 demotions of the 12 jobs reverse_shadow held
        await Eventually.True(async () => (await BreakerWalk.ChangesAsync(pipeline.Database)).Count == 1, Timeout, "the owner to open the breaker");
        var opened = (await BreakerWalk.ChangesAsync(pipeline.Database))[0];
        Assert.Equal((CircuitBreakerChanged.Open, 4, 8), (opened.State, opened.Demotions, opened.Jobs));

        // When 4 healthy jobs in shadow signal once a minute from minute 4 until all are promoted, and the owner of the
        // control partition is killed at minute 20, while the breaker is open
        for (var minute = 4; minute < 150; minute++)
        {
            if (minute == 20)
            {
                output.WriteLine($"minute {minute}: killed the owner of partition 0 ({await promoters.KillOwnerAsync()})");
            }
            if ((await TwoPromoters.PhasesAsync(pipeline, inA)).Values.All(phase => phase == "reverse_shadow"))
            {
                output.WriteLine($"every job promoted by minute {minute}");
                break;
            }
            await MinuteAsync(inA, minute, "shadow", SignalFactory.Good);
        }

        // Then the breaker was closed once, by the owner's successor, after the demotions had aged an hour, and walking the
        // log in its order every promotion into reverse_shadow came after the close, and each job was held with cause breaker
        // (once per wait; again when the survivor took over a job whose place in the queue it had not saved)
        var changes = await BreakerWalk.ChangesAsync(pipeline.Database);
        Assert.Equal([CircuitBreakerChanged.Open, CircuitBreakerChanged.Closed], changes.Select(c => c.State));
        Assert.True(changes[1].At >= SignalFactory.Start.AddMinutes(63), $"closed at {changes[1].At:u}");
        var (promotedBeforeClose, promotedAfterClose, held) = await PromotionsAsync(pipeline, inA);
        output.WriteLine($"breaker opened at {changes[0].At:u}, closed at {changes[1].At:u}; promotions into reverse_shadow before the close: {promotedBeforeClose}, after: {promotedAfterClose}; held: {string.Join(", ", held)}");
        Assert.Equal(0, promotedBeforeClose);
        Assert.Equal(inA.Count, promotedAfterClose);
        Assert.Equal(inA.Count, held.Count);
    }

    static async Task<(int BeforeClose, int AfterClose, HashSet<string> Held)> PromotionsAsync(SharingPipeline pipeline, IReadOnlyList<string> jobs) =>
        BreakerWalk.Promotions(await new StoreProbe(pipeline.Database).EventsAsync(BreakerWalk.Types), jobs);
}
