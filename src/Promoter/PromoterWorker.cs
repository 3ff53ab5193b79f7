using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Streaming.Hosting.Kafka;
using Streaming.Hosting.Resilience;
using Streaming.Promoter.Policies;

namespace Streaming.Promoter;

/// <summary>
/// Publishes the policy folder and makes sure of the phase-change topic before the Promoter counts as started (the
/// process's tail, and so every decision and publication, waits for that), then keeps publishing what changes in the
/// folder, waiting out database outages.
/// </summary>
sealed class PromoterWorker(
    PolicyDirectory policies,
    KafkaOptions kafka,
    TopicProvisioner topics,
    LoopHealth health,
    ILogger<PromoterWorker> logger) : BackgroundService
{
    const string LoopName = "promoter:policy-folder";

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await policies.SyncAsync(cancellationToken);
        await topics.EnsureCompactedTopicAsync(kafka.PhaseChangesTopic, cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        policies.RunAsync(new Outage(LoopName, health, logger), stoppingToken);
}
