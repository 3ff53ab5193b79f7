using Npgsql;
using Streaming.Chaos.Workload;
using Streaming.Contracts;
using Streaming.Embedded.Broker;

namespace Streaming.Chaos.Environment;

/// <summary>
/// What every run of the suite stands on: a fresh database on the suite's PostgreSQL, a fresh embedded broker (in this
/// process, where faults are injected) with the contract's topics, the chaos policy, and Ingest, Projector and Promoter
/// under the supervisor, started: schema migrated and policy published.
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
        var services = SupervisedServices.Start(settings.RepositoryRoot, runDirectory, new Dictionary<string, string>
        {
            ["ConnectionStrings__EventStore"] = connectionString,
            ["Kafka__BootstrapServers"] = broker.BootstrapServers,
            ["Kafka__CreateTopics"] = "false",
            ["Kafka__ConsumerSessionTimeout"] = "00:00:06",
            ["Promoter__PolicyDirectory"] = policies,
            ["Serilog__MinimumLevel__Default"] = "Warning",
        });
        var stage = new RunStage(connectionString, store, broker, services, new PipelineProbe(store, broker.BootstrapServers, settings.Partitions));
        try
        {
            await stage.Probe.WaitForStartAsync(ChaosPolicy.Name, TimeSpan.FromMinutes(2), services.RecentOutput, cancellationToken);
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
