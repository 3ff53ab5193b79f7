using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;

namespace Streaming.EventStore;

public static class EventStoreExtensions
{
    /// <summary>Registers the store's readers and writers over the process's one <see cref="NpgsqlDataSource"/>.</summary>
    public static IServiceCollection AddEventStore(this IServiceCollection services)
    {
        services.TryAddSingleton(sp => new EventStreams(sp.GetRequiredService<NpgsqlDataSource>()));
        services.TryAddSingleton(sp => new EventLog(sp.GetRequiredService<NpgsqlDataSource>()));
        return services;
    }
}
