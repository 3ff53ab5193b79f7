using Microsoft.Extensions.Hosting;
using Npgsql;
using Streaming.Contracts;
using Streaming.Embedded.Broker;
using Streaming.Hosting.Kafka;
using Streaming.Ingest;
using Streaming.Projector;
using Streaming.Promoter;

namespace Streaming.Tests.Infrastructure;

/// <summary>
/// The real system for a test class: its own PostgreSQL database, its own Kafka-protocol cluster (librdkafka's mock
/// brokers, spoken to over TCP like any Kafka), and Ingest, Projector and Promoter hosted as in production.
/// </summary>
public sealed class Pipeline : IAsyncLifetime
{
    readonly TestDatabase _database = new();
    readonly IReadOnlyDictionary<string, string?> _settings;
    IHost? _ingest;
    IHost? _deciders;

    public Pipeline()
        : this(new Dictionary<string, string?>())
    {
    }

    /// <param name="settings">Configuration over the defaults below, for every service.</param>
    internal Pipeline(IReadOnlyDictionary<string, string?> settings) => _settings = settings;

    public EmbeddedKafkaCluster Kafka { get; } = EmbeddedKafkaCluster.Start();

    public NpgsqlDataSource Database => _database.DataSource;

    public string ConnectionString => _database.ConnectionString;

    public IServiceProvider IngestServices => _ingest?.Services ?? throw new InvalidOperationException("Ingest is not running");

    public IServiceProvider DeciderServices => _deciders?.Services ?? throw new InvalidOperationException("Projector and Promoter are not running");

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        foreach (var topic in new[] { Topics.Signals, Topics.SignalsDeadLetter, Topics.PhaseChanges })
        {
            Kafka.CreateTopic(topic, 4);
        }
        await StartIngestAsync();
        _deciders = Build(b => b.AddProjector().AddPromoter());
        await _deciders.StartAsync();
    }

    public async Task StartIngestAsync()
    {
        _ingest = Build(b => b.AddIngest());
        await _ingest.StartAsync();
    }

    public async Task StopIngestAsync()
    {
        if (_ingest is not null)
        {
            await _ingest.StopAsync();
            _ingest.Dispose();
            _ingest = null;
        }
    }

    IHost Build(Func<IHostApplicationBuilder, IHostApplicationBuilder> services) =>
        ServiceHosts.Build(ConnectionString, Kafka.BootstrapServers, services, _settings);

    public async Task DisposeAsync()
    {
        await StopIngestAsync();
        if (_deciders is not null)
        {
            await _deciders.StopAsync();
            _deciders.Dispose();
        }
        Kafka.Dispose();
        await _database.DisposeAsync();
    }
}
