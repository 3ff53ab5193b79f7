using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Streaming.Embedded.Broker;
using Streaming.Contracts;
using Streaming.Hosting.Kafka;
using Streaming.Hosting.Resilience;
using Streaming.Projections.Tail;
using Streaming.Projector;
using Streaming.Promoter;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Faults;

/// <summary>
/// The database goes away while the Projector and Promoter run (in one process, sharing one tail): every fold waits it
/// out and resumes, nothing is lost or decided twice, and no host stops. The projections and decisions afterwards are
/// exactly those of an uninterrupted run.
/// </summary>
public sealed class DatabaseOutageTests : IAsyncLifetime
{
    readonly EmbeddedKafkaCluster _kafka = EmbeddedKafkaCluster.Start();

    public Task InitializeAsync()
    {
        _kafka.CreateTopic(Topics.PhaseChanges, 4);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _kafka.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_database_shut_down_and_started_again_mid_stream_is_waited_out_and_nothing_is_lost()
    {
        // Given the Projector and Promoter on a PostgreSQL server of this test's own, with twenty-odd minutes of history
        await using var postgres = new PrivatePostgres();
        await postgres.StartAsync();
        await using var dataSource = NpgsqlDataSource.Create(postgres.ConnectionString);
        using var host = await StartAsync(postgres.ConnectionString);
        var fleet = new SignallingFleet(dataSource, "restart", 8);
        await fleet.WriteAsync(0, 25);
        var health = host.Services.GetRequiredService<LoopHealth>();

        // When the server is shut down (fast: every session ended) and started again once the services have noticed
        await postgres.StopAsync();
        await Eventually.True(() => Task.FromResult(!health.IsReady), SignallingFleet.Timeout, "the services to notice the outage");
        await postgres.StartAsync();
        // and the rest of the forty minutes is written after it
        await fleet.WriteAsync(25, 40);

        // Then everything is projected, decided and published as if nothing had happened, and no host stopped
        await fleet.ProcessedAsync(40);
        await Eventually.True(() => Task.FromResult(health.IsReady), SignallingFleet.Timeout, "every loop to report running again");
        Assert.False(host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested, "the host stopped");
        await fleet.AssertAsAnUninterruptedRunAsync(SignallingFleet.Published(_kafka.BootstrapServers, fleet.Healthy.Count()));
        await host.StopAsync();
    }

    [Fact]
    public async Task Every_connection_ended_by_the_server_again_and_again_is_waited_out_and_nothing_is_lost()
    {
        // Given the Projector and Promoter on a database of their own, with twenty-odd minutes of history
        var database = new TestDatabase();
        await database.InitializeAsync();
        try
        {
            using var host = await StartAsync(database.ConnectionString);
            var fleet = new SignallingFleet(database.DataSource, "terminated", 8);
            await fleet.WriteAsync(0, 20);

            // When the server ends every session of the database (57P01) while the rest of the forty minutes is written, again each
            // time the tail has read on
            var tail = host.Services.GetRequiredService<LogTail>();
            var writing = fleet.WriteAsync(20, 40);
            for (var round = 0; round < 5 && !writing.IsCompleted; round++)
            {
                var read = tail.EventsRead;
                await TerminateEverySessionAsync(database);
                await Eventually.True(() => Task.FromResult(tail.EventsRead > read || writing.IsCompleted), SignallingFleet.Timeout, "the tail to read on");
            }
            await writing;

            // Then it all comes out as from an uninterrupted run, and no host stopped
            await fleet.ProcessedAsync(40);
            Assert.False(host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested, "the host stopped");
            await fleet.AssertAsAnUninterruptedRunAsync(SignallingFleet.Published(_kafka.BootstrapServers, fleet.Healthy.Count()));
            await host.StopAsync();
        }
        finally
        {
            await database.DisposeAsync();
        }
    }

    async Task<IHost> StartAsync(string connectionString)
    {
        var host = ServiceHosts.Build(connectionString, _kafka.BootstrapServers, b => b.AddProjector().AddPromoter(),
            new Dictionary<string, string?> { ["Tail:MaxRetryDelay"] = "00:00:02" });
        await host.StartAsync();
        Assert.Single(host.Services.GetServices<LogTail>());
        return host;
    }

    static async Task TerminateEverySessionAsync(TestDatabase database)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var terminate = new NpgsqlCommand(
            "select count(pg_terminate_backend(pid)) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()", connection);
        await terminate.ExecuteScalarAsync();
    }
}
