using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Streaming.EventStore;
using Streaming.Hosting.Kafka;
using Streaming.Ingest.Appending;
using Streaming.Ingest.Consuming;
using Streaming.Ingest.DeadLetters;

namespace Streaming.Ingest;

public static class IngestExtensions
{
    public static IHostApplicationBuilder AddIngest(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSchemaMigrations(IngestSchema.Migrations);
        builder.Services.AddOptions<IngestOptions>()
            .BindConfiguration(IngestOptions.Section)
            .Validate(o => o.MaxBatchSize > 0, "Ingest:MaxBatchSize must be positive")
            .Validate(o => o.Consumers is > 0 and <= 64, "Ingest:Consumers must be between 1 and 64")
            .Validate(o => o.SmallBatch >= 0 && o.MaxBatchWait >= TimeSpan.Zero, "Ingest:SmallBatch and Ingest:MaxBatchWait must not be negative")
            .Validate(o => o.MaxClockSkew > TimeSpan.Zero, "Ingest:MaxClockSkew must be positive")
            .Validate(o => o.FencedPause > TimeSpan.Zero, "Ingest:FencedPause must be positive")
            .ValidateOnStart();
        builder.Services.AddSignalLog();
        builder.Services.AddSingleton(sp => new SignalShards(
            sp.GetRequiredService<StoreShards>(), sp.GetRequiredService<SignalLog>(), sp.GetRequiredService<ILogger<SignalLog>>()));
        builder.Services.AddSingleton(sp => IngestMetrics.Observe(new IngestCounters(), sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        builder.Services.AddSingleton<ConsumerStates>();
        builder.Services.AddSingleton<StoredSignalOffsets>();
        builder.Services.AddSingleton(sp => new DeadLetterPublisher(sp.GetRequiredService<IOptions<KafkaOptions>>().Value));
        builder.Services.AddHostedService<IngestWorker>();
        return builder;
    }

    /// <summary>Registers Ingest's write path (signals and Kafka offsets) over the process's one <see cref="NpgsqlDataSource"/>.</summary>
    public static IServiceCollection AddSignalLog(this IServiceCollection services)
    {
        services.TryAddSingleton(sp => new SignalLog(sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<ILogger<SignalLog>>()));
        return services;
    }
}
