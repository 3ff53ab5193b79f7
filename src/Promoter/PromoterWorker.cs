using Microsoft.Extensions.Hosting;
using Npgsql;
using Streaming.Hosting;
using Streaming.Hosting.Kafka;
using Streaming.Lifecycle;
using Streaming.Projections;
using Streaming.Promoter.Decisions;
using Streaming.Promoter.Publishing;

namespace Streaming.Promoter;

/// <summary>Makes decisions from the log and publishes the recorded ones, side by side.</summary>
sealed class PromoterWorker(
    NpgsqlDataSource dataSource,
    BufferedFold<JobLifecycle> decisions,
    PhaseChangeRelay relay,
    KafkaOptions kafka,
    TopicProvisioner topics) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await DecisionStateTable.EnsureAsync(dataSource, stoppingToken);
        await topics.EnsureTopicsAsync([kafka.PhaseChangesTopic], stoppingToken);
        await ConcurrentLoops.WhenAllOrFirstFailureAsync([
            Task.Run(() => decisions.RunAsync(stoppingToken), stoppingToken),
            Task.Run(() => relay.RunAsync(stoppingToken), stoppingToken)]);
    }
}
