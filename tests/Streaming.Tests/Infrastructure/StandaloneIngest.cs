using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Streaming.Embedded.Broker;
using Streaming.Contracts;
using Streaming.Hosting;
using Streaming.Hosting.Kafka;
using Streaming.Hosting.Resilience;
using Streaming.Ingest;
using Streaming.Ingest.Consuming;

namespace Streaming.Tests.Infrastructure;

/// <summary>
/// Ingest alone, hosted as in production, against a Kafka-protocol cluster of its own (which outlives restarts of the
/// host) and the PostgreSQL the test names. What it logs is recorded.
/// </summary>
public sealed class StandaloneIngest : IAsyncDisposable
{
    readonly string _connectionString;
    readonly IReadOnlyDictionary<string, string?> _settings;
    readonly bool _ownsCluster;
    readonly Lazy<IProducer<byte[], byte[]>> _producer;
    IHost? _host;

    /// <param name="cluster">Another instance's cluster, to run a second Ingest process in the same group; null for a new one.</param>
    public StandaloneIngest(
        string connectionString, int partitions = 1, IReadOnlyDictionary<string, string?>? settings = null, EmbeddedKafkaCluster? cluster = null)
    {
        _connectionString = connectionString;
        _settings = settings ?? new Dictionary<string, string?>();
        _ownsCluster = cluster is null;
        Kafka = cluster ?? EmbeddedKafkaCluster.Start();
        _producer = new(() => new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = Kafka.BootstrapServers, EnableIdempotence = true, LingerMs = 1 }).Build());
        if (_ownsCluster)
        {
            foreach (var topic in new[] { Topics.Signals, Topics.SignalsDeadLetter })
            {
                Kafka.CreateTopic(topic, partitions);
            }
        }
    }

    public EmbeddedKafkaCluster Kafka { get; }

    public RecordingLogger Logs { get; private set; } = new();

    public IServiceProvider Services => _host?.Services ?? throw new InvalidOperationException("Ingest is not running");

    public IngestCounters Counters => Services.GetRequiredService<IngestCounters>();

    public LoopHealth Health => Services.GetRequiredService<LoopHealth>();

    /// <summary>The ingest worker's run: completes only when the host stops it or it fails.</summary>
    public Task Run => Services.GetServices<IHostedService>().OfType<BackgroundService>().Single().ExecuteTask!;

    public async Task StartAsync()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:EventStore"] = _connectionString,
            ["Kafka:BootstrapServers"] = Kafka.BootstrapServers,
            ["Kafka:CreateTopics"] = "false",
            ["Kafka:ConsumerSessionTimeout"] = "00:00:06",
            ["Ingest:Consumers"] = "1",
            ["Ingest:MaxBatchWait"] = "00:00:00.010",
        });
        builder.Configuration.AddInMemoryCollection(_settings);
        builder.AddServiceDefaults();
        builder.AddIngest();
        var provider = new RecordingLoggerProvider();
        Logs = provider.Logger;
        builder.Services.AddSingleton<ILoggerFactory>(_ => LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Debug).AddProvider(provider)));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
        _host = builder.Build();
        try
        {
            await _host.StartAsync();
        }
        catch
        {
            // A host refused before its services were built cannot be stopped.
            _host.Dispose();
            _host = null;
            throw;
        }
    }

    public async Task StopAsync()
    {
        if (_host is not null)
        {
            await _host.StopAsync();
            _host.Dispose();
            _host = null;
        }
    }

    /// <summary>Produces signals' JSON (or any value) to one partition, keyed as given, and waits for the broker to have them.</summary>
    public void Produce(IEnumerable<(string Key, byte[] Value)> messages, int partition = 0, string topic = Topics.Signals)
    {
        var producer = _producer.Value;
        foreach (var (key, value) in messages)
        {
            producer.Produce(new TopicPartition(topic, partition), new Message<byte[], byte[]> { Key = System.Text.Encoding.UTF8.GetBytes(key), Value = value });
        }
        producer.Flush(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_producer.IsValueCreated)
        {
            _producer.Value.Dispose();
        }
        if (_ownsCluster)
        {
            Kafka.Dispose();
        }
    }
}
