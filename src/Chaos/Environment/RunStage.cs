using Npgsql;
using Streaming.Chaos.Workload;
using Streaming.Contracts;
using Streaming.Embedded.Broker;

namespace Streaming.Chaos.Environment;

/// <summary>
/// What every run of the suite stands on: a fresh database on the suite's PostgreSQL, a fresh embedded broker (in this
/// process, where faults are injected) with the contract's topics, the chaos policy, and Ingest, Projector and Promoter
/// under the supervisor, started: schema migrated and policy published. With several instances, each role's copies
/// share the partitions through their groups and the store has a log partition per topic partition.
/// </summary>
public sealed class RunStage : IAsyncDisposable
{
    RunStage(string connectionString, NpgsqlDataSource store, EmbeddedKafkaCluster broker, SupervisedServices services, PipelineProbe probe)
    {
        ConnectionString = connectionString;
        Store = store;
        Broker = broker;
        Services = services;
        Probe = probe;
    }

    public string ConnectionString { get; }

    public NpgsqlDataSource Store { get; }

    public EmbeddedKafkaCluster Broker { get; }

    public SupervisedServices Services { get; }

    public PipelineProbe Probe { get; }

    public static async Task<RunStage> StartAsync(ChaosSettings settings, PostgresCluster postgres, string name, CancellationToken cancellationToken)
    {
        var connectionString = await postgres.CreateDatabaseAsync("chaos_" + name.Replace('-', '_'));
        var store = NpgsqlDataSource.Create(connectionString);
        var broker = EmbeddedKafkaCluster.Start();
        foreach (var topic in new[] { Topics.Signals, Topics.SignalsDeadLetter, Topics.PhaseChanges })
        {
            broker.CreateTopic(topic, settings.Partitions);
        }
        var runDirectory = Path.Combine(settings.WorkDirectory, name);
        var policies = Path.Combine(runDirectory, "policies");
        Directory.CreateDirectory(policies);
        await File.WriteAllTextAsync(Path.Combine(policies, ChaosPolicy.Name + ".yaml"), ChaosPolicy.Text, cancellationToken);
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__EventStore"] = connectionString,
            ["Kafka__BootstrapServers"] = broker.BootstrapServers,
            ["Kafka__CreateTopics"] = "false",
            ["Kafka__ConsumerSessionTimeout"] = "00:00:06",
            ["Promoter__PolicyDirectory"] = policies,
            ["Serilog__MinimumLevel__Default"] = "Warning",
        };
        if (settings.Instances > 1)
        {
            var partitions = settings.Partitions.ToString(System.Globalization.CultureInfo.InvariantCulture);
            environment["Kafka__Partitions"] = partitions;
            environment["Store__LogPartitions"] = partitions;
            environment["Projector__Ownership__Enabled"] = "true";
            environment["Promoter__Ownership__Enabled"] = "true";
        }
        var services = SupervisedServices.Start(settings.RepositoryRoot, runDirectory, settings.Instances, environment);
        var stage = new RunStage(connectionString, store, broker, services, new PipelineProbe(store, broker.BootstrapServers, settings.Partitions));
        try
        {
            await stage.Probe.WaitForStartAsync(ChaosPolicy.Name, TimeSpan.FromMinutes(2), services.RecentOutput, cancellationToken);
            if (settings.Instances > 1 && await stage.Probe.LogPartitionsAsync(cancellationToken) is var made && made != settings.Partitions)
            {
                throw new InvalidOperationException($"{settings.Instances} instances need a store with {settings.Partitions} log partitions; the services made one with {made}");
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
        await Store.DisposeAsync();
    }
}
