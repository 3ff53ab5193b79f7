using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;
using Streaming.Projections.History;
using Streaming.Projections.Ownership;
using Streaming.Projections.Sharding;
using Streaming.Projections.Tail;
using Streaming.Projector.JobStates;

namespace Streaming.Projector;

public static class ProjectorExtensions
{
    /// <summary>Where several Projectors are told to share the log's partitions (<see cref="OwnershipOptions"/>).</summary>
    public const string OwnershipSection = "Projector:Ownership";

    /// <summary>
    /// The Projector: the job states and the history archive, as folds of the process's tail; in a shard other than 0,
    /// the relay of the control streams from shard 0.
    /// </summary>
    public static IHostApplicationBuilder AddProjector(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSchemaMigrations(ProjectorSchema.Migrations);
        var options = builder.Configuration.GetSection(ProjectorOptions.Section).Get<ProjectorOptions>() ?? new ProjectorOptions();
        if (options.StateWriteInterval <= TimeSpan.Zero)
        {
            throw new InvalidOperationException($"Projector:StateWriteInterval must be positive, not {options.StateWriteInterval}");
        }
        if (options.MetricsWriteInterval < TimeSpan.Zero)
        {
            throw new InvalidOperationException($"Projector:MetricsWriteInterval must not be negative, not {options.MetricsWriteInterval}");
        }
        builder.Services.AddLogFold(sp => new JobStateFold(
            sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<ILoggerFactory>(), options.StateWriteInterval, options.MetricsWriteInterval));
        builder.Services.AddHistoryArchive();
        builder.AddPartitionOwnership(OwnershipSection, "projector", "streaming-projector");
        // In a shard other than 0, the control streams its folds (and its Promoter's) read are copied in from shard 0.
        builder.Services.AddControlRelay();
        builder.Services.AddHostedService(sp => new JobStateStatistics(sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<ILogger<JobStateStatistics>>()));
        return builder;
    }
}
