using Microsoft.Extensions.Hosting;
using Npgsql;
using Streaming.EventStore;

namespace Streaming.Hosting;

/// <summary>
/// Brings the event store's schema up to date before any other part of the process starts: the store's own migrations
/// and those the process's parts registered (<see cref="SchemaMigrationExtensions.AddSchemaMigrations"/>).
/// </summary>
sealed class EventStoreMigration(NpgsqlDataSource dataSource, IEnumerable<SchemaMigrationRegistration> registrations) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        EventStoreSchema.MigrateAsync(dataSource, registrations.SelectMany(r => r.Migrations), cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
