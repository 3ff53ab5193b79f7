using System.Diagnostics;
using Npgsql;
using Streaming.Bench;
using Streaming.Bench.Cpu;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Bench;

/// <summary>The bench's CPU accounting puts each process's time down to its kind, including PostgreSQL backends that end mid-run.</summary>
public sealed class CpuSamplerTests(TestDatabase database) : IClassFixture<TestDatabase>, IAsyncLifetime
{
    static readonly TimeSpan Patience = TimeSpan.FromMinutes(1);
    Process? _system;

    [Fact]
    public async Task The_systems_process_and_the_backends_serving_it_are_each_counted_as_such()
    {
        await using var probe = BenchDatabases.Probe(database.ConnectionString);
        _system = Spin();
        await using var sampler = await CpuSampler.StartAsync(probe, _system.Id, database.Name, CancellationToken.None);
        // Read after the sampler took its first reading, so what the process spends from here on is all counted.
        var spentBefore = OwnSeconds(_system.Id);
        await using var system = NpgsqlDataSource.Create(database.ConnectionString);

        await BusyQueryAsync(system);
        await Eventually.True(() => Task.FromResult(OwnSeconds(_system.Id) - spentBefore >= 0.3), Patience, "the system's process to spend 0.3 s of CPU while sampled");
        var use = await sampler.StopAsync(signals: 1_000);

        Assert.InRange(use.SystemProcess, 0.25, 1_000);
        Assert.InRange(use.PostgresConnections, 0.1, 1_000);
        Assert.Equal(use.SystemProcess + use.PostgresConnections + use.PostgresBackground + use.PostgresProbes + use.Bench, use.Total, 6);
        Assert.Equal(use.Total * 1e6 / 1_000, use.MicrosecondsPerSignal, 6);
    }

    [Fact]
    public async Task A_backend_that_ends_during_the_run_is_still_counted()
    {
        await using var probe = BenchDatabases.Probe(database.ConnectionString);
        _system = Spin();
        await using var sampler = await CpuSampler.StartAsync(probe, _system.Id, database.Name, CancellationToken.None);

        await using (var system = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Pooling = false }.ConnectionString))
        {
            await BusyQueryAsync(system);
        }
        var use = await sampler.StopAsync(signals: 1);

        Assert.InRange(use.PostgresConnections + use.PostgresBackground, 0.1, 1_000);
    }

    // About half a second of a backend's CPU on this machine.
    static async Task BusyQueryAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("select sum(i) from generate_series(1, 5000000) i");
        await command.ExecuteScalarAsync();
    }

    static Process Spin() => Process.Start(new ProcessStartInfo("sh", ["-c", "while :; do :; done"]))!;

    static double OwnSeconds(int pid) => (Procfs.Read(pid)?.Own ?? 0) / Procfs.TicksPerSecond;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        _system?.Kill();
        _system?.Dispose();
        return Task.CompletedTask;
    }
}
