using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streaming.JobClient;

namespace Streaming.SampleJob;

/// <summary>Runs the migration: joins Streaming, starts in the phase it was assigned, reports every interval, switches when told.</summary>
sealed class MigrationWorker(IOptions<SampleJobOptions> options, IConfiguration configuration, ILoggerFactory loggers) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var clock = new AcceleratedClock(settings.Start ?? DateTimeOffset.UtcNow, settings.Speed, settings.StateDirectory);
        var migration = new Migration(settings.JobId, settings.Profile, new Random(settings.JobId.GetHashCode(StringComparison.Ordinal)), loggers.CreateLogger<Migration>());
        await using var job = await StreamingJob.StartAsync(
            new JobClientOptions
            {
                JobId = settings.JobId,
                KafkaBootstrapServers = configuration["Kafka:BootstrapServers"] ?? "localhost:9092",
                RabbitMqUrl = configuration["Bus:RabbitMqUrl"],
                RabbitMqExchange = configuration["Bus:Exchange"] ?? Contracts.PhaseChanges.PhaseChangeBus.Exchange,
                PhaseFeed = settings.Feed,
                InitialPhase = migration.Phase,
                StateDirectory = settings.StateDirectory,
                Labels = new Dictionary<string, string> { ["team"] = "samples", ["profile"] = settings.Profile.ToString().ToLowerInvariant() },
            },
            (change, _) =>
            {
                migration.SwitchTo(change.Phase, change.AtStartup ? "assigned before this start" : $"{change.Direction}: {change.Reason}");
                return Task.CompletedTask;
            },
            loggers,
            clock,
            stoppingToken);
        using var timer = new PeriodicTimer(settings.Interval);
        for (var reports = 1L; await timer.WaitForNextTickAsync(stoppingToken); reports++)
        {
            job.Report(migration.Measure());
            if (reports % 50 == 0)
            {
                clock.Save();
            }
        }
    }
}
