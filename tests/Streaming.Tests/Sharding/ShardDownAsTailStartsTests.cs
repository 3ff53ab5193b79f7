using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Streaming.EventStore;
using Streaming.Hosting;
using Streaming.Hosting.Resilience;
using Streaming.Projections;
using Streaming.Projections.Tail;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;
using Streaming.Tests.Tail;

namespace Streaming.Tests.Sharding;

/// <summary>
/// A process serving shard 1 without a group (one Projector or Promoter a shard) whose shard goes down just as its host
/// has finished starting, before its tail has read the log's partitioning. Found by the fault suite's one-shard-down run
/// under load: <c>promoter-shard1 exited with code 1</c>, its tail having started 0.6 s before shard 1 stopped in a run
/// that passed.
/// </summary>
public sealed class ShardDownAsTailStartsTests : IAsyncLifetime
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    readonly TwoShardStore _store = new();

    [Fact]
    public async Task The_tail_waits_for_its_shard_instead_of_stopping_the_process_and_folds_once_it_is_back()
    {
        // Given a job's 5 events on shard 1, and a process serving shard 1 with a fold, whose shard stops after the schema
        // migration and before the host counts as started
        var job = PartitionedDatabase.JobIn(1);
        Assert.Equal(1, TwoShardStore.ShardOf(job));
        await new EventStreams(_store.Shard(1)).AppendToStreamAsync(job, ExpectedVersion.Any, SampleEvents.Events(5), CancellationToken.None);
        await CountingFold.CreateTableAsync(_store.Shard(1));
        var counting = new CountingFold("counting");
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:EventStore"] = _store.Server(0).ConnectionString,
            ["ConnectionStrings:EventStoreShard1"] = _store.Server(1).ConnectionString,
            ["Store:Shards"] = "2",
            ["Store:Shard"] = "1",
            ["Store:LogPartitions"] = TwoShardStore.Partitions.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Kafka:BootstrapServers"] = "127.0.0.1:9",
            ["Serilog:MinimumLevel:Default"] = "Warning",
        });
        builder.AddServiceDefaults();
        builder.Services.AddHostedService(_ => new ShardStop(_store.Server(1)));
        builder.Services.AddLogFold(sp => new BufferedFold<CountingFold.Count>(
            sp.GetRequiredService<NpgsqlDataSource>(), counting, new FoldOptions(), NullLogger.Instance));
        using var host = builder.Build();
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        var health = host.Services.GetRequiredService<LoopHealth>();

        // When the host starts while shard 1 is down
        await host.StartAsync();
        try
        {
            // Then the tail waits out the outage, the process still running
            await Eventually.True(
                () => Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested
                                      || health.Snapshot().Any(l => l.Loop == LogTail.LoopName && l.Condition == LoopCondition.WaitingOutOutage)),
                Deadline, "the tail to wait out shard 1's outage");
            Assert.False(lifetime.ApplicationStopping.IsCancellationRequested, "the process stopped");

            // And once shard 1 is back, it folds the job's events
            await _store.Server(1).StartAsync();
            await Eventually.True(
                () => Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested || counting.Committed(job) == 5),
                Deadline, "the fold to count the job's 5 events");
            Assert.False(lifetime.ApplicationStopping.IsCancellationRequested, "the process stopped");
        }
        finally
        {
            await host.StopAsync();
        }
    }

    public Task InitializeAsync() => _store.InitializeAsync();

    public Task DisposeAsync() => _store.DisposeAsync();

    // Started after the schema migration and before the tail's service: the shard goes down as the host finishes starting.
    sealed class ShardStop(PrivatePostgres server) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => server.StopAsync();

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
