using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Promoter.Policies;
using Streaming.Tests.Infrastructure;
using Streaming.Tests.Projections;

namespace Streaming.Tests.Notifications;

/// <summary>A notification made from the log: a breaker that opens because of the signals jobs send, told in event time.</summary>
public sealed class BreakerNotificationTests : IAsyncLifetime
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    readonly Pipeline _pipeline = new();
    readonly WebhookReceiver _receiver = new();
    NotifyingProcess _process = null!;

    public async Task InitializeAsync()
    {
        await _pipeline.InitializeAsync();
        await _receiver.StartAsync();
        _process = new NotifyingProcess(_pipeline.ConnectionString, _pipeline.Kafka.BootstrapServers, new Dictionary<string, string?>
        {
            ["Notifications:Webhooks:0:Name"] = "ops",
            ["Notifications:Webhooks:0:Url"] = _receiver.Url("/hooks/ops"),
            ["Notifications:Delivery:PollInterval"] = "00:00:00.050",
        });
        await _process.StartAsync();
    }

    [Fact]
    public async Task Three_of_eight_jobs_demoted_out_of_a_phase_open_its_breaker_and_the_webhook_is_told_once_with_the_event_time()
    {
        // Given a policy whose breaker on b opens when more than a quarter of b's jobs (at least four) are demoted within an hour
        var policy = "priority: 100\n" + FleetControlTests.Policy(breaker: "    breaker: { maxDemotionShare: 0.25, window: 1h, minJobs: 4 }");
        var published = await _pipeline.DeciderServices.GetRequiredService<PolicyPublisher>().PublishAsync(policy, "tests", CancellationToken.None);
        Assert.Equal(PolicyPublicationOutcome.Published, published.Outcome);
        string[] jobs = [.. Enumerable.Range(1, 8).Select(i => $"breaker-job-{i}")];
        var healthy = new Dictionary<string, double> { ["error_rate"] = 0 };
        var failing = new Dictionary<string, double> { ["error_rate"] = 0.5 };
        using var producer = SignalFactory.Producer(_pipeline.Kafka.BootstrapServers);

        // When eight jobs report b healthily for two minutes, then three of them fail for three minutes
        producer.Produce(jobs.SelectMany(job => Enumerable.Range(0, 2).Select(m => SignalFactory.Signal(job, m + 1, SignalFactory.Start.AddMinutes(m), "b", healthy))));
        producer.Produce(jobs.Take(3).SelectMany(job => Enumerable.Range(3, 3).Select(m => SignalFactory.Signal(job, m + 1, SignalFactory.Start.AddMinutes(m), "b", failing))));

        // Then the breaker opens, and the webhook is told once, with the breaker's event time and counts
        var received = await Eventually.Get(() => Task.FromResult(_receiver.Received), r => r.Count >= 1, Timeout, "the breaker's notification");
        var opened = await BreakerEventAsync();
        var body = JsonNode.Parse(Assert.Single(received).Body)!;
        Assert.Equal("breaker-opened", body["rule"]!.GetValue<string>());
        Assert.Equal("fleet/b", body["subject"]!.GetValue<string>());
        Assert.Equal(opened.At, body["occurredAt"]!.GetValue<DateTimeOffset>());
        Assert.True(opened.At > SignalFactory.Start.AddMinutes(2) && opened.At <= SignalFactory.Start.AddMinutes(5), $"opened at {opened.At}");
        // The counts are the breaker's when it opened (how many of the eight it had seen depends on the log's order).
        Assert.Equal((opened.Demotions, opened.Jobs), (body["details"]!["demotions"]!.GetValue<int>(), body["details"]!["jobs"]!.GetValue<int>()));
        Assert.InRange(opened.Demotions, 2, 3);
        Assert.Equal($"breaker-opened:{opened.EventId}", Assert.Single(received).IdempotencyKey);
    }

    async Task<CircuitBreakerChanged> BreakerEventAsync()
    {
        await using var command = _pipeline.Database.CreateCommand("select data from es.events where type = $1 order by global_position limit 1");
        command.Parameters.Add(new Npgsql.NpgsqlParameter<string> { TypedValue = CircuitBreakerChanged.EventType });
        return ContractsJson.Deserialize<CircuitBreakerChanged>((string)(await command.ExecuteScalarAsync())!);
    }

    public async Task DisposeAsync()
    {
        await _process.DisposeAsync();
        await _receiver.DisposeAsync();
        await _pipeline.DisposeAsync();
    }
}
