using System.Globalization;
using Npgsql;
using Streaming.Chaos.Workload;
using Streaming.Contracts;
using Streaming.Embedded.Broker;
using Streaming.EventStore;
using Streaming.Hosting.Kafka;

namespace Streaming.Chaos.Environment;

/// <summary>
/// What every run of the suite stands on: a fresh database on the suite's PostgreSQL (on each shard's cluster, with
/// several shards), a fresh embedded broker (in this process, where faults are injected) with the contract's topics,
/// the chaos policy, and Ingest, Projector and Promoter under the supervisor, started: schema migrated and policy
/// published. With several instances, each role's copies share the partitions through their groups; with several shards,
/// every process knows every shard and a Projector and Promoter set serves each; either way the store has a log
/// partition per topic partition.
/// </summary>
public sealed class RunStage : IAsyncDisposable
{
    RunStage(IReadOnlyList<string> connectionStrings, NpgsqlDataSource store, StoreShards shards, EmbeddedKafkaCluster broker, SupervisedServices services, PipelineProbe probe)
    {
        ConnectionStrings = connectionStrings;
        Store = store;
        Shards = shards;
        Broker = broker;
        Services = services;
        Probe = probe;
    }

    /// <summary>Each shard's database, shard 0 first.</summary>
    public IReadOnlyList<string> ConnectionStrings { get; }

    /// <summary>Shard 0's database: the whole store with one shard.</summary>
    public NpgsqlDataSource Store { get; }

    public StoreShards Shards { get; }

    public EmbeddedKafkaCluster Broker { get; }

    public SupervisedServices Services { get; }

    public PipelineProbe Probe { get; }

    public static async Task<RunStage> StartAsync(ChaosSettings settings, IReadOnlyList<PostgresCluster> postgres, string name, CancellationToken cancellationToken)
    {
        if (postgres.Count < settings.Shards)
        {
            throw new ArgumentException($"{settings.Shards} shards need as many PostgreSQL clusters; {postgres.Count} given", nameof(postgres));
        }
        var database = "chaos_" + name.Replace('-', '_');
        var connectionStrings = new List<string>();
        foreach (var cluster in postgres.Take(settings.Shards))
        {
            connectionStrings.Add(await cluster.CreateDatabaseAsync(database));
        }
        var dataSources = connectionStrings.Select(NpgsqlDataSource.Create).ToList();
        var shards = settings.Shards == 1 ? StoreShards.Single(dataSources[0]) : new StoreShards(new ShardMap(settings.Shards, settings.Partitions), dataSources);
        var broker = EmbeddedKafkaCluster.Start();
        foreach (var topic in new[] { Topics.Signals, Topics.SignalsDeadLetter, Topics.PhaseChanges })
        {
            broker.CreateTopic(topic, settings.Partitions);
        }
        foreach (var (topic, partitions) in new KafkaOptions().ShardGroupTopics(new ShardMap(settings.Shards, settings.Partitions)))
        {
            broker.CreateTopic(topic, partitions);
        }
        var runDirectory = Path.Combine(settings.WorkDirectory, name);
        var policies = Path.Combine(runDirectory, "policies");
        Directory.CreateDirectory(policies);
        await File.WriteAllTextAsync(Path.Combine(policies, ChaosPolicy.Name + ".yaml"), ChaosPolicy.Text, cancellationToken);
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__EventStore"] = connectionStrings[0],
            ["Kafka__BootstrapServers"] = broker.BootstrapServers,
            ["Kafka__CreateTopics"] = "false",
            ["Kafka__ConsumerSessionTimeout"] = settings.SessionTimeout.ToString("c", CultureInfo.InvariantCulture),
            ["Promoter__PolicyDirectory"] = policies,
            ["Serilog__MinimumLevel__Default"] = "Warning",
        };
        if (settings.PartitionedLog)
        {
            var partitions = settings.Partitions.ToString(CultureInfo.InvariantCulture);
            environment["Kafka__Partitions"] = partitions;
            environment["Store__LogPartitions"] = partitions;
        }
        if (settings.Instances > 1)
        {
            environment["Projector__Ownership__Enabled"] = "true";
            environment["Promoter__Ownership__Enabled"] = "true";
        }
        if (settings.Shards > 1)
        {
            environment["Store__Shards"] = settings.Shards.ToString(CultureInfo.InvariantCulture);
            for (var shard = 1; shard < settings.Shards; shard++)
            {
                environment[$"ConnectionStrings__EventStoreShard{shard}"] = connectionStrings[shard];
            }
        }
        var services = SupervisedServices.Start(settings.RepositoryRoot, runDirectory, settings.InstancesOf, settings.Shards, environment);
        var stage = new RunStage(connectionStrings, dataSources[0], shards, broker, services, new PipelineProbe(shards, broker.BootstrapServers, settings.Partitions));
        try
        {
            await stage.Probe.WaitForStartAsync(ChaosPolicy.Name, TimeSpan.FromMinutes(2), services.RecentOutput, cancellationToken);
            // The store can be ready while a process still starts (it migrates every shard first): a fault injected then
            // would hit a start, not the running pipeline the runs are about.
            var processes = SupervisedServices.ProcessNames(settings.InstancesOf, settings.Shards);
            await Until.TrueAsync(
                _ => Task.FromResult(processes.All(services.Started().Contains)), TimeSpan.FromMinutes(2),
                () => $"every process to start ({string.Join(", ", processes.Except(services.Started()))} not yet): " + services.RecentOutput(),
                cancellationToken);
            if (settings.PartitionedLog && (await stage.Probe.LogPartitionsAsync(cancellationToken)).FirstOrDefault(made => made != settings.Partitions) is var made && made != 0)
            {
                throw new InvalidOperationException(
                    $"{settings.Instances} instances over {settings.Shards} shards need a store with {settings.Partitions} log partitions; the services made one with {made}");
            }
        }
        catch
        {
            await stage.DisposeAsync();
            throw;
        }
        return stage;
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        Broker.Dispose();
        await Shards.DisposeAsync();
        await Store.DisposeAsync();
    }
}
