using Streaming.Cli;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Ingest.Appending;
using Streaming.Lifecycle;
using Streaming.LifecycleEvents;
using Streaming.Projector.JobStates;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>An event in a job's stream whose body is not its contract (written by other means than the API) leaves the job's page readable.</summary>
public sealed class JobDetailUnreadableBodyTests
{
    static readonly DateTimeOffset Start = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task An_override_whose_body_is_not_the_contract_is_left_out_of_the_job_s_page()
    {
        await TestDatabase.UseFreshAsync(async dataSource =>
        {
            // Given a job with a signal and its row, an override set through the contract, and one whose body is not an override
            var ct = CancellationToken.None;
            await StoreSchema.MigrateAsync(dataSource, ct);
            var streams = new EventStreams(dataSource);
            var job = "unreadable-" + Guid.NewGuid().ToString("N");
            var signal = new SignalRecorded(job, 1, Start, "shadow", new Dictionary<string, double> { ["error_rate"] = 0.001 }, new Dictionary<string, string>(), null);
            await new SignalLog(dataSource).AppendSignalsAsync(
                [new SignalToAppend(job, 1, EventIds.ForSignal(job, 1), SignalRecorded.EventType, ContractsJson.Serialize(signal), null, Start)], [], ct);
            var stored = await streams.ReadStreamForwardAsync(job, 1, 1, ct);
            var lifecycle = JobLifecycleDecider.Record(JobLifecycleDecider.Initial(job), SignalSamples.From(stored[0], signal));
            await JobPage.WriteRowAsync(dataSource, new JobStateView(lifecycle, signal.Labels, null, null, stored[0].Version), null);
            var held = new OverrideSet(Guid.NewGuid(), job, "hold", null, "alice", "incident 42", Start.AddMinutes(1), null);
            await streams.AppendToStreamAsync(job, 1, [
                new EventToAppend(Guid.NewGuid(), OverrideSet.EventType, ContractsJson.Serialize(held), "{}", held.SetAt),
                new EventToAppend(Guid.NewGuid(), OverrideSet.EventType, """{"overrideId":"not a uuid","kind":7}""", "{}", Start.AddMinutes(2)),
                new EventToAppend(Guid.NewGuid(), OverrideEnded.EventType, """{"endedAt":"yesterday"}""", "{}", Start.AddMinutes(3)),
            ], ct);

            // When its page is read
            var detail = await JobPage.ReadAsync(dataSource, job);

            // Then it shows the override set through the contract and leaves the two others out
            Assert.NotNull(detail);
            var shown = Assert.Single(detail.Overrides);
            Assert.Equal(("set", held.OverrideId, "hold", "alice"), (shown.Type, shown.OverrideId, shown.Kind, shown.Actor));
        });
    }
}
