using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;

namespace Streaming.Projections;

public static class ProjectionsExtensions
{
    /// <summary>One <see cref="LogWakeups"/> per process, shared by every reader of the log.</summary>
    public static IServiceCollection AddStreamingWakeups(this IServiceCollection services)
    {
        services.TryAddSingleton(sp => new LogWakeups(
            sp.GetRequiredService<NpgsqlDataSource>(), EventStoreSchema.NotificationChannel, sp.GetRequiredService<ILogger<LogWakeups>>()));
        return services;
    }
}
