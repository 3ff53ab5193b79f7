using System.Net.Http.Headers;
using System.Text.Json;
using Streaming.Chaos.Environment;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Deployment;

/// <summary>
/// docker-compose.yml with the local override (docker-compose.local.yml), brought up as a project of its own: its own
/// name, its own env file written by scripts/compose-env.sh (random passwords, free host ports), removed with its
/// volumes on disposal. <see cref="CreateShardedAsync"/> adds the two-shard files (docker-compose.shards.yml and its
/// local override).
/// </summary>
public sealed class ComposeProject : IAsyncDisposable
{
    public static readonly string[] Services = ["postgres", "rabbitmq", "kafka", "ingest", "projector", "promoter", "api"];

    /// <summary>The services the two-shard files add.</summary>
    public static readonly string[] ShardServices = ["postgres-shard1", "projector-shard1", "promoter-shard1"];

    static readonly string[] Ports =
    [
        "KAFKA_PORT", "POSTGRES_PORT", "RABBITMQ_PORT", "RABBITMQ_DIST_PORT", "RABBITMQ_EPMD_PORT", "API_PORT",
        "INGEST_HEALTH_PORT", "PROJECTOR_HEALTH_PORT", "PROMOTER_HEALTH_PORT",
    ];

    static readonly string[] ShardPorts = ["POSTGRES_SHARD1_PORT", "PROJECTOR_SHARD1_HEALTH_PORT", "PROMOTER_SHARD1_HEALTH_PORT"];

    readonly TemporaryFolder _folder = new();
    readonly Dictionary<string, string> _settings;
    readonly string _files;

    ComposeProject(string name, Dictionary<string, string> settings, bool sharded)
    {
        Name = name;
        _settings = settings;
        Sharded = sharded;
        _files = "-f docker-compose.yml -f docker-compose.local.yml" + (sharded ? " -f docker-compose.shards.yml -f docker-compose.shards.local.yml" : "");
    }

    public bool Sharded { get; }

    public string Name { get; }

    public string EnvFile => Path.Combine(_folder.Path, "compose.env");

    public int Port(string setting) => int.Parse(_settings[setting], System.Globalization.CultureInfo.InvariantCulture);

    public string Setting(string name) => _settings[name];

    public static Task<ComposeProject> CreateAsync() => CreateAsync(sharded: false);

    /// <summary>The project over two PostgreSQL shards: docker-compose.shards.yml and docker-compose.shards.local.yml too.</summary>
    public static Task<ComposeProject> CreateShardedAsync() => CreateAsync(sharded: true);

    static async Task<ComposeProject> CreateAsync(bool sharded)
    {
        var ports = sharded ? [.. Ports, .. ShardPorts] : Ports;
        var project = new ComposeProject("streaming-test-" + Guid.NewGuid().ToString("N")[..10],
            ports.ToDictionary(p => p, _ => FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture)), sharded);
        await Docker.CheckedAsync(Path.Combine(RepositoryRoot.Path, "scripts", "compose-env.sh"), $"{project.EnvFile} {string.Join(' ', project._settings.Select(s => $"{s.Key}={s.Value}"))}", TimeSpan.FromSeconds(30));
        foreach (var line in File.ReadAllLines(project.EnvFile).Where(l => l.Contains('=', StringComparison.Ordinal) && !l.StartsWith('#')))
        {
            var separator = line.IndexOf('=', StringComparison.Ordinal);
            project._settings[line[..separator]] = line[(separator + 1)..];
        }
        return project;
    }

    public Task<string> ComposeAsync(string arguments, TimeSpan timeout) =>
        Docker.CheckedAsync("docker-compose", $"--env-file {EnvFile} {_files} -p {Name} {arguments}", timeout);

    /// <summary>docker-compose on the production shape's files instead: docker-compose.yml and its default override.</summary>
    public Task<string> ComposeProductionAsync(string arguments, TimeSpan timeout) =>
        Docker.CheckedAsync("docker-compose", $"--env-file {EnvFile} -f docker-compose.yml -f docker-compose.override.yml -p {Name} {arguments}", timeout);

    /// <summary>A client of the project's API signed in as <paramref name="role"/>, with the token the API wrote for it.</summary>
    public async Task<HttpClient> ApiClientAsync(string role)
    {
        var tokens = JsonSerializer.Deserialize<Dictionary<string, string>>(
            await Docker.CheckedAsync("docker", $"exec {await ContainerAsync("api")} cat /data/api-tokens.json", TimeSpan.FromSeconds(30)))!;
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port("API_PORT")}") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens[role]);
        return http;
    }

    public async Task<string> ContainerAsync(string service) => (await ComposeAsync($"ps -q {service}", TimeSpan.FromSeconds(60))).Trim();

    /// <summary>Waits until every service's container reports healthy (its image's or the compose file's health check).</summary>
    public async Task WaitHealthyAsync(TimeSpan timeout, params string[] services)
    {
        foreach (var service in services.Length > 0 ? services : Sharded ? [.. Services, .. ShardServices] : Services)
        {
            var container = await ContainerAsync(service);
            await Eventually.Get(() => Docker.HealthAsync(container), h => h == "healthy", timeout, $"{service} to be healthy");
        }
    }

    public async Task<string> LogsAsync()
    {
        var (_, output) = await Docker.RunAsync("docker-compose", $"--env-file {EnvFile} {_files} -p {Name} logs --no-color --tail 60", TimeSpan.FromSeconds(60));
        return output;
    }

    public async ValueTask DisposeAsync()
    {
        await Docker.RunAsync("docker-compose", $"--env-file {EnvFile} {_files} -p {Name} down -v --remove-orphans --timeout 20", TimeSpan.FromMinutes(2));
        _folder.Dispose();
    }
}
