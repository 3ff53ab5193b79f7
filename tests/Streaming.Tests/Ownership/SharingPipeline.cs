using Microsoft.Extensions.Hosting;
using Npgsql;
using Streaming.Contracts;
using Streaming.Embedded.Broker;
using Streaming.Ingest;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Ownership;

/// <summary>
/// The real system over a store of <see cref="Partitions"/> log partitions and a <c>job-signals</c>
/// of as many: Ingest and one of the Projector and the Promoter hosted in the test, the other role run as several
/// processes of their own (<see cref="StartOwner"/>) that share the log's partitions through their group.
/// </summary>
public sealed class SharingPipeline : IAsyncDisposable
{
    readonly TestDatabase _database = new();
    readonly List<IHost> _hosts = [];
    readonly List<ServiceProcess> _owners = [];
    readonly Action<string> _output;

    SharingPipeline(Action<string> output, int partitions)
    {
        _output = output;
        Partitions = partitions;
    }

    /// <summary>The log's partitions, and <c>job-signals</c>'s.</summary>
    public int Partitions { get; }

    public EmbeddedKafkaCluster Kafka { get; } = EmbeddedKafkaCluster.Start();

    public NpgsqlDataSource Database => _database.DataSource;

    /// <summary>The services of the Ingest hosted here.</summary>
    public IServiceProvider IngestServices => _hosts.Count > 0 ? _hosts[0].Services : throw new InvalidOperationException("Ingest is not running");

    IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Store:LogPartitions"] = $"{Partitions}",
        ["Kafka:Partitions"] = $"{Partitions}",
    };

    /// <summary>Starts the store, the brokers, Ingest and the role hosted here (<paramref name="hosted"/>).</summary>
    /// <param name="output">Where each owning process's log goes when the pipeline stops (the test's output).</param>
    /// <param name="partitions">The log's partitions (<see cref="PartitionedDatabase.Partitions"/> unless given).</param>
    public static async Task<SharingPipeline> StartAsync(
        Func<IHostApplicationBuilder, IHostApplicationBuilder> hosted, Action<string> output, int partitions = PartitionedDatabase.Partitions)
    {
        var pipeline = new SharingPipeline(output, partitions);
        await pipeline._database.InitializeAsync();
        foreach (var topic in new[] { Topics.Signals, Topics.SignalsDeadLetter, Topics.PhaseChanges })
        {
            pipeline.Kafka.CreateTopic(topic, partitions);
        }
        foreach (var services in new Func<IHostApplicationBuilder, IHostApplicationBuilder>[] { b => b.AddIngest(), hosted })
        {
            var host = ServiceHosts.Build(pipeline._database.ConnectionString, pipeline.Kafka.BootstrapServers, services, pipeline.Settings);
            pipeline._hosts.Add(host);
            await host.StartAsync();
        }
        return pipeline;
    }

    /// <summary>An instance of <paramref name="role"/> (Projector, Promoter) as its own process, a member of the role's group, with <paramref name="settings"/> besides.</summary>
    /// <summary>
    /// The group members' session: a takeover on the mock cluster takes a session and then a session less 1 s for the
    /// others to rejoin, more rounds when a member joins late under load, so a short one keeps the 15 s in reach.
    /// </summary>
    public static readonly TimeSpan SessionTimeout = TimeSpan.FromSeconds(3);

    public ServiceProcess StartOwner(string role, string instance, IReadOnlyDictionary<string, string>? settings = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__EventStore"] = _database.ConnectionString,
            ["Kafka__BootstrapServers"] = Kafka.BootstrapServers,
            ["Kafka__CreateTopics"] = "false",
            ["Kafka__Partitions"] = $"{Partitions}",
            ["Kafka__ConsumerSessionTimeout"] = $"{SessionTimeout:c}",
            ["Store__LogPartitions"] = $"{Partitions}",
            ["Promoter__PolicyScanInterval"] = "00:00:01",
            [$"{role}__Ownership__Enabled"] = "true",
            [$"{role}__Ownership__InstanceId"] = instance,
            ["Serilog__MinimumLevel__Default"] = "Warning",
            ["Serilog__MinimumLevel__Override__Streaming.Projections.Ownership"] = "Information",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }
        var owner = ServiceProcess.Start(role, environment);
        _owners.Add(owner);
        return owner;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (owner, index) in _owners.Select((o, i) => (o, i)))
        {
            await owner.DisposeAsync();
            _output($"--- owning process {index + 1} ---\n{owner.Log}");
        }
        foreach (var host in Enumerable.Reverse(_hosts))
        {
            await host.StopAsync();
            host.Dispose();
        }
        Kafka.Dispose();
        await _database.DisposeAsync();
    }
}
