using Microsoft.Extensions.DependencyInjection;

namespace Streaming.EventStore;

public static class SchemaMigrationExtensions
{
    /// <summary>
    /// Registers a part's migrations: the process applies them, with the store's own and every other part's it hosts, in
    /// version order behind the store's migration lock before anything else starts.
    /// </summary>
    public static IServiceCollection AddSchemaMigrations(this IServiceCollection services, IReadOnlyList<SchemaMigration> migrations)
    {
        services.AddSingleton(new SchemaMigrationRegistration(migrations));
        return services;
    }
}
