using Streaming.Chaos.Environment;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Deployment;

/// <summary>
/// docker-compose.yml with the local override (docker-compose.local.yml), brought up as a project of its own: its own
/// name, its own env file written by scripts/compose-env.sh (random passwords, free host ports), removed with its
/// volumes on disposal.
/// </summary>
public sealed class ComposeProject : IAsyncDisposable
{
    public static readonly string[] Services = ["postgres", "rabbitmq", "kafka", "ingest", "projector", "promoter", "api"];

    readonly TemporaryFolder _folder = new();
    readonly Dictionary<string, string> _settings;

    ComposeProject(string name, Dictionary<string, string> settings)
    {
        Name = name;
        _settings = settings;
    }

    public string Name { get; }

    public string EnvFile => Path.Combine(_folder.Path, "compose.env");

    public int Port(string setting) => int.Parse(_settings[setting], System.Globalization.CultureInfo.InvariantCulture);

    public string Setting(string name) => _settings[name];

    public static async Task<ComposeProject> CreateAsync()
    {
        var ports = new[]
        {
            "KAFKA_PORT", "POSTGRES_PORT", "RABBITMQ_PORT", "RABBITMQ_DIST_PORT", "RABBITMQ_EPMD_PORT", "API_PORT",
            "INGEST_HEALTH_PORT", "PROJECTOR_HEALTH_PORT", "PROMOTER_HEALTH_PORT",
        };
        var project = new ComposeProject("streaming-test-" + Guid.NewGuid().ToString("N")[..10], ports.ToDictionary(p => p, _ => FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture)));
        await Docker.CheckedAsync(Path.Combine(RepositoryRoot.Path, "scripts", "compose-env.sh"), $"{project.EnvFile} {string.Join(' ', project._settings.Select(s => $"{s.Key}={s.Value}"))}", TimeSpan.FromSeconds(30));
        foreach (var line in File.ReadAllLines(project.EnvFile).Where(l => l.Contains('=', StringComparison.Ordinal) && !l.StartsWith('#')))
        {
            var separator = line.IndexOf('=', StringComparison.Ordinal);
            project._settings[line[..separator]] = line[(separator + 1)..];
        }
        return project;
    }

    public Task<string> ComposeAsync(string arguments, TimeSpan timeout) =>
        Docker.CheckedAsync("docker-compose", $"--env-file {EnvFile} -f docker-compose.yml -f docker-compose.local.yml -p {Name} {arguments}", timeout);

    /// <summary>docker-compose on the production shape's files instead: docker-compose.yml and its default override.</summary>
    public Task<string> ComposeProductionAsync(string arguments, TimeSpan timeout) =>
        Docker.CheckedAsync("docker-compose", $"--env-file {EnvFile} -f docker-compose.yml -f docker-compose.override.yml -p {Name} {arguments}", timeout);

    public async Task<string> ContainerAsync(string service) => (await ComposeAsync($"ps -q {service}", TimeSpan.FromSeconds(60))).Trim();

    /// <summary>Waits until every service's container reports healthy (its image's or the compose file's health check).</summary>
    public async Task WaitHealthyAsync(TimeSpan timeout, params string[] services)
    {
        foreach (var service in services.Length > 0 ? services : Services)
        {
            var container = await ContainerAsync(service);
            await Eventually.Get(() => Docker.HealthAsync(container), h => h == "healthy", timeout, $"{service} to be healthy");
        }
    }

    public async Task<string> LogsAsync()
    {
        var (_, output) = await Docker.RunAsync("docker-compose", $"--env-file {EnvFile} -f docker-compose.yml -f docker-compose.local.yml -p {Name} logs --no-color --tail 60", TimeSpan.FromSeconds(60));
        return output;
    }

    public async ValueTask DisposeAsync()
    {
        await Docker.RunAsync("docker-compose", $"--env-file {EnvFile} -f docker-compose.yml -f docker-compose.local.yml -p {Name} down -v --remove-orphans --timeout 20", TimeSpan.FromMinutes(2));
        _folder.Dispose();
    }
}
