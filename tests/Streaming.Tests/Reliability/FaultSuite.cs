using Streaming.Chaos;
using Streaming.Chaos.Environment;
using Streaming.Chaos.Scenarios;
using Streaming.Chaos.Verification;
using Streaming.Chaos.Workload;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Reliability;

/// <summary>
/// The fault suite's short form (<c>./chaos.sh</c> runs the long one): 5,000 signals from 250 jobs a run, on a
/// PostgreSQL cluster of its own that the PostgreSQL test stops and starts; the uninterrupted reference run is made once.
/// Ten producer steps of 500 signals still put the broker's six faults at steps of their own and the outage and the kills
/// mid-stream, and the checks compare every signal, decision and row whatever the volume: more signals cost CPU only.
/// <c>STREAMING_CHAOS_SEED</c> replays another seed.
/// </summary>
public sealed class FaultSuite : IAsyncLifetime
{
    Task<(RunFigures Figures, StoreSnapshot Snapshot)>? _reference;
    Task<PostgresCluster>? _secondShard;

    public ChaosSettings Settings { get; } = new()
    {
        Seed = int.TryParse(Environment.GetEnvironmentVariable("STREAMING_CHAOS_SEED"), out var seed) ? seed : 1,
        Jobs = 250,
        SignalsPerJob = 20,
        Kills = 3,
        RepositoryRoot = RepositoryRoot.Path,
        WorkDirectory = Path.Combine(Path.GetTempPath(), $"streaming-chaos-test-{Guid.NewGuid():N}"),
    };

    public ChaosWorkload Workload => new(Settings.Jobs, Settings.SignalsPerJob, Settings.Seed);

    public PostgresCluster Postgres { get; private set; } = null!;

    public PipelineRun Pipeline => new(Settings, Postgres);

    /// <summary>The uninterrupted run of the workload, made on first use.</summary>
    public Task<(RunFigures Figures, StoreSnapshot Snapshot)> ReferenceAsync() =>
        _reference ??= Pipeline.RunAsync("reference", Workload, new NoFaults(), null, CancellationToken.None);

    /// <summary>Two clusters for the runs over two shards: the suite's, and a second one started on first use.</summary>
    public async Task<IReadOnlyList<PostgresCluster>> TwoShardsAsync() =>
        [Postgres, await (_secondShard ??= PostgresCluster.StartAsync(Settings.RepositoryRoot, Path.Combine(Settings.WorkDirectory, "postgres-shard1")))];

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Settings.WorkDirectory);
        Postgres = await PostgresCluster.StartAsync(Settings.RepositoryRoot, Path.Combine(Settings.WorkDirectory, "postgres"));
    }

    public async Task DisposeAsync()
    {
        if (_secondShard is not null)
        {
            await (await _secondShard).DisposeAsync();
        }
        await Postgres.DisposeAsync();
        Directory.Delete(Settings.WorkDirectory, recursive: true);
    }
}
