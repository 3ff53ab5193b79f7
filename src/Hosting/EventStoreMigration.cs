using Microsoft.Extensions.Hosting;
using Npgsql;
using Streaming.EventStore;

namespace Streaming.Hosting;

/// <summary>Brings the event store's schema up to date before any other part of the process starts.</summary>
sealed class EventStoreMigration(NpgsqlDataSource dataSource) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => EventStoreSchema.MigrateAsync(dataSource, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
