using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Streaming.Hosting;

namespace Streaming.Api.Shards;

public static class ShardExtensions
{
    /// <summary>
    /// The store's shards (<c>Store:Shards</c>, each shard's connection string): shard 0 is the process's data source,
    /// the others get one each; shards 1 and up are migrated after shard 0.
    /// </summary>
    public static IServiceCollection AddStoreShards(this IServiceCollection services)
    {
        services.AddSingleton(sp =>
        {
            var connections = ServiceDefaults.RequireShardConnectionStrings(sp.GetRequiredService<IConfiguration>());
            return new StoreShards(
            [
                sp.GetRequiredService<NpgsqlDataSource>(),
                .. connections.Skip(1).Select((connection, i) => new NpgsqlDataSourceBuilder(connection) { Name = $"event-store-shard{i + 1}" }.Build()),
            ]);
        });
        services.AddHostedService<ShardMigration>();
        return services;
    }
}
