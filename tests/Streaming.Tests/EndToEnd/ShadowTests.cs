using Microsoft.Extensions.DependencyInjection;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Lifecycle;
using Streaming.Promoter.Decisions;
using Streaming.Promoter.Policies;
using Streaming.Promoter.Shadows;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.EndToEnd;

public sealed class ShadowTests(Pipeline pipeline) : IClassFixture<Pipeline>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    readonly StoreProbe _store = new(pipeline.Database);

    [Fact]
    public async Task A_shadow_policy_records_what_it_would_do_without_doing_it_and_keeps_an_agreement_report()
    {
        // Given a shadow policy like the one in force but with a 10-minute shadow soak, running once published
        var publisher = pipeline.DeciderServices.GetRequiredService<PolicyPublisher>();
        var candidate = DefaultPolicies.CdcMigrationText.Replace("soak: 30m", "soak: 10m", StringComparison.Ordinal);
        var published = await publisher.PublishAsync(candidate, "tests", CancellationToken.None, shadow: true);
        Assert.Equal(PolicyPublicationOutcome.Published, published.Outcome);
        await Eventually.True(async () => await CheckpointExistsAsync(), Timeout, "the shadow policies to start");

        // When a healthy job reports 40 minutes in shadow
        const string job = "shadow-1";
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        producer.Produce(SignalFactory.Minutes(job, 0, 40, "shadow", SignalFactory.Good));

        // Then the real promotion comes at minute 30, by the policy in force alone
        Assert.Equal("reverse_shadow", await Eventually.Get(() => _store.PhaseAsync(job), p => p == "reverse_shadow", Timeout, "the real promotion"));
        await Eventually.True(() => _store.HasProcessedAsync(DecisionFold.CheckpointName, job), Timeout, "the promoter");
        Assert.Equal(1, await _store.CountEventsAsync(job, PhaseChanged.EventType));
        await Eventually.True(() => _store.HasProcessedAsync(ShadowFold.CheckpointName, job), Timeout, "the shadow policies");

        // And the shadow recorded, once, that it would have promoted at minute 10, and counts the real move as agreed,
        // 20 minutes later than it wanted
        var wish = Assert.Single(await WishesAsync(job));
        Assert.Equal(("shadow", "reverse_shadow", "promote", SignalFactory.Start.AddMinutes(10)), (wish.From, wish.To, wish.Direction, wish.DecidedAt));
        Assert.Equal("cdc-migration@1", wish.Policy);
        var agreement = (await ShadowStateTable.LoadAgreementAsync(pipeline.Database, CancellationToken.None))["cdc-migration"];
        Assert.Equal((1L, 0L, 0L, 0L, 1200.0), (agreement.Agreed, agreement.LiveOnly, agreement.ShadowOnly, agreement.Open, agreement.LeadSeconds));
    }

    async Task<bool> CheckpointExistsAsync()
    {
        await using var command = pipeline.Database.CreateCommand("select exists (select 1 from es.checkpoints where name = $1)");
        command.Parameters.AddWithValue(ShadowFold.CheckpointName);
        return (bool)(await command.ExecuteScalarAsync())!;
    }

    async Task<List<ShadowDecision>> WishesAsync(string job)
    {
        await using var command = pipeline.Database.CreateCommand("select data from es.events where stream_id = $1 and type = $2 order by version");
        command.Parameters.AddWithValue(ShadowDecision.StreamFor("cdc-migration"));
        command.Parameters.AddWithValue(ShadowDecision.EventType);
        var wishes = new List<ShadowDecision>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var wish = ContractsJson.Deserialize<ShadowDecision>(reader.GetString(0));
            if (wish.JobId == job)
            {
                wishes.Add(wish);
            }
        }
        return wishes;
    }
}
