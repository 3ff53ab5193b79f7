using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;
using Streaming.Projections.History;
using Streaming.Projections.Ownership;
using Streaming.Projections.Tail;
using Streaming.Projector.JobStates;

namespace Streaming.Projector;

public static class ProjectorExtensions
{
    /// <summary>Where several Projectors are told to share the log's partitions (<see cref="OwnershipOptions"/>).</summary>
    public const string OwnershipSection = "Projector:Ownership";

    /// <summary>The Projector: the job states and the history archive, as folds of the process's tail.</summary>
    public static IHostApplicationBuilder AddProjector(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSchemaMigrations(ProjectorSchema.Migrations);
        builder.Services.AddLogFold(sp => new JobStateFold(sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddHistoryArchive();
        builder.AddPartitionOwnership(OwnershipSection, "projector", "streaming-projector");
        builder.Services.AddHostedService(sp => new JobStateStatistics(sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<ILogger<JobStateStatistics>>()));
        return builder;
    }
}
