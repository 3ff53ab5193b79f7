using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Lifecycle;
using Streaming.Projections;
using Streaming.Projector.JobStates;

namespace Streaming.Projector;

public static class ProjectorExtensions
{
    public static IHostApplicationBuilder AddProjector(this IHostApplicationBuilder builder)
    {
        builder.Services.AddStreamingWakeups();
        builder.Services.AddSingleton(new JobStateProjection(DefaultPolicies.CdcMigration));
        builder.Services.AddSingleton(sp => new BufferedFold<JobStateView>(
            sp.GetRequiredService<NpgsqlDataSource>(),
            sp.GetRequiredService<JobStateProjection>(),
            sp.GetRequiredService<LogWakeups>().WaitAsync,
            new FoldOptions(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<JobStateProjection>()));
        builder.Services.AddHostedService<ProjectorWorker>();
        return builder;
    }
}
