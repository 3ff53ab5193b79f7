using Microsoft.Extensions.Hosting;
using Npgsql;
using Streaming.Hosting;
using Streaming.Hosting.Kafka;
using Streaming.Lifecycle;
using Streaming.Projections;
using Streaming.Promoter.Decisions;
using Streaming.Promoter.Policies;
using Streaming.Promoter.Shadows;
using Streaming.Promoter.Publishing;

namespace Streaming.Promoter;

/// <summary>Makes decisions from the log and publishes the recorded ones, side by side.</summary>
sealed class PromoterWorker(
    NpgsqlDataSource dataSource,
    BufferedFold<JobLifecycle> decisions,
    IEnumerable<PhaseChangeRelay> relays,
    PolicyDirectory policies,
    ShadowRunner shadows,
    KafkaOptions kafka,
    TopicProvisioner topics) : BackgroundService
{
    /// <summary>The policy folder is published before the Promoter counts as started, so nothing it decides predates it.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await policies.SyncAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await DecisionStateTable.EnsureAsync(dataSource, stoppingToken);
        await topics.EnsureCompactedTopicAsync(kafka.PhaseChangesTopic, stoppingToken);
        await ConcurrentLoops.WhenAllOrFirstFailureAsync([
            Task.Run(() => policies.RunAsync(stoppingToken), stoppingToken),
            Task.Run(() => shadows.RunAsync(stoppingToken), stoppingToken),
            Task.Run(() => decisions.RunAsync(stoppingToken), stoppingToken),
            .. relays.Select(relay => Task.Run(() => relay.RunAsync(stoppingToken), stoppingToken))]);
    }
}
