using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Streaming.Hosting.Resilience;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Supervision;

/// <summary>A service started before its database is reachable waits for it, not ready meanwhile, instead of failing its start.</summary>
public sealed class StartupWaitTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_service_started_while_the_database_is_unreachable_waits_not_ready_and_starts_when_it_is_back()
    {
        var database = new TestDatabase();
        await database.InitializeAsync();
        var target = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        await using var gate = new TcpGate(target.Host!, target.Port);
        gate.Cut();
        using var host = ServiceHosts.Build(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Port = gate.Port, Pooling = false }.ConnectionString,
            "127.0.0.1:9", builder => builder);
        var health = host.Services.GetRequiredService<LoopHealth>();

        var starting = host.StartAsync();
        await Eventually.True(() => Task.FromResult(health.Snapshot().Any(l => l is { Loop: "schema migration", Condition: LoopCondition.WaitingOutOutage })),
            Timeout, "the start-up to wait out the outage, not ready");
        Assert.False(starting.IsCompleted, "the host must not have started (or failed) while the database is unreachable");

        gate.Restore();
        await starting.WaitAsync(Timeout);
        Assert.Contains(health.Snapshot(), l => l is { Loop: "schema migration", Condition: LoopCondition.Running });
        await host.StopAsync();
        await database.DisposeAsync();
    }

    [Fact]
    public async Task A_stop_asked_for_while_waiting_for_the_database_ends_the_wait_at_once()
    {
        await using var gate = new TcpGate("127.0.0.1", 9);
        gate.Cut();
        using var host = ServiceHosts.Build($"Host=127.0.0.1;Port={gate.Port};Username=nobody;Pooling=false", "127.0.0.1:9", builder => builder);
        var health = host.Services.GetRequiredService<LoopHealth>();
        var starting = host.StartAsync();
        await Eventually.True(() => Task.FromResult(health.Snapshot().Any(l => l.Loop == "schema migration")), Timeout, "the wait to begin");

        host.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => starting.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
