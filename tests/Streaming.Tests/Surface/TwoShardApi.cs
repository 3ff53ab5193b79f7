using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Streaming.Api;
using Streaming.Embedded.Broker;
using Streaming.EventStore;
using Streaming.Hosting;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>
/// The API as deployed over two shards (<c>Store:Shards</c> = 2, 4 log partitions), each a PostgreSQL cluster of the
/// test's own, served by Kestrel on a free port, with a Kafka-protocol cluster of its own; no other service runs.
/// </summary>
public sealed class TwoShardApi : IAsyncLifetime
{
    readonly TwoShardStore _store = new();
    readonly string _folder = Directory.CreateTempSubdirectory("streaming-shard-api-").FullName;
    EmbeddedKafkaCluster? _kafka;
    WebApplication? _api;

    public StoreShards Shards => _api!.Services.GetRequiredService<StoreShards>();

    public IServiceProvider Services => _api!.Services;

    public Uri BaseUrl { get; private set; } = null!;

    public IReadOnlyDictionary<string, string> Tokens { get; private set; } = new Dictionary<string, string>();

    public async Task InitializeAsync()
    {
        await _store.StartAsync();
        _kafka = EmbeddedKafkaCluster.Start();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Store:Shards"] = "2",
            ["Store:LogPartitions"] = TwoShardStore.Partitions.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ConnectionStrings:EventStore"] = _store.Server(0).ConnectionString,
            ["ConnectionStrings:EventStoreShard1"] = _store.Server(1).ConnectionString,
            ["Kafka:BootstrapServers"] = _kafka.BootstrapServers,
            ["Kafka:CreateTopics"] = "false",
            ["Api:TokensFile"] = Path.Combine(_folder, "api-tokens.json"),
            ["Api:KeyRingFolder"] = Path.Combine(_folder, "api-keys"),
            ["Serilog:MinimumLevel:Default"] = "Warning",
            // The notification rules are checked when a test asks (after its first check at the start).
            ["Notifications:CheckInterval"] = "01:00:00",
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddServiceDefaults();
        builder.AddApi();
        _api = builder.Build();
        _api.MapApi();
        await _api.StartAsync();
        BaseUrl = new Uri(_api.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        Tokens = JsonSerializer.Deserialize<Dictionary<string, string>>(await File.ReadAllTextAsync(Path.Combine(_folder, "api-tokens.json")))!;
    }

    /// <summary>An HTTP client for the API with the bearer token of <paramref name="role"/>.</summary>
    public HttpClient Client(string role = "viewer") =>
        new() { BaseAddress = BaseUrl, DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", Tokens[role]) } };

    public async Task DisposeAsync()
    {
        if (_api is not null)
        {
            await _api.StopAsync();
            await _api.DisposeAsync();
        }
        _kafka?.Dispose();
        await _store.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}
