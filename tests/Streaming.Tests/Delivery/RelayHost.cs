using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streaming.Embedded.Broker;
using Streaming.Contracts;
using Streaming.EventStore;
using Streaming.Hosting;
using Streaming.Hosting.Kafka;
using Streaming.Promoter;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Delivery;

/// <summary>
/// The Promoter hosted as in production on a database of its own, publishing to its own Kafka-protocol cluster and to
/// an exchange of its own on the test RabbitMQ: its relays publish whatever decisions a test records.
/// </summary>
public sealed class RelayHost : IAsyncLifetime
{
    public const int Partitions = 4;

    readonly MigratedDatabase _database = new();
    IHost? _host;

    public EmbeddedKafkaCluster Kafka { get; } = EmbeddedKafkaCluster.Start();

    public string Exchange { get; } = RabbitMqBroker.NewExchange();

    public EventStreams Streams => new(_database.DataSource);

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        Kafka.CreateTopic(Topics.PhaseChanges, Partitions);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:EventStore"] = _database.DataSource.ConnectionString,
            ["Kafka:BootstrapServers"] = Kafka.BootstrapServers,
            ["Kafka:CreateTopics"] = "false",
            ["Bus:RabbitMqUrl"] = RabbitMqBroker.Url.ToString(),
            ["Bus:Exchange"] = Exchange,
            ["Serilog:MinimumLevel:Default"] = Environment.GetEnvironmentVariable("STREAMING_TEST_LOG_LEVEL") ?? "Warning",
        });
        builder.AddServiceDefaults();
        builder.AddPromoter();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
        _host = builder.Build();
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.StopAsync();
            _host.Dispose();
        }
        Kafka.Dispose();
        await _database.DisposeAsync();
    }
}
