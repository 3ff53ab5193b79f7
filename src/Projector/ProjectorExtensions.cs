using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Streaming.Lifecycle;
using Streaming.Projections;
using Streaming.Projector.Archiving;

namespace Streaming.Projector;

public static class ProjectorExtensions
{
    public static IHostApplicationBuilder AddProjector(this IHostApplicationBuilder builder)
    {
        builder.Services.AddStreamingWakeups();
        builder.Services.AddHostedService<ProjectorWorker>();
        builder.Services.AddHostedService<HistoryArchiveWorker>();
        return builder;
    }
}
