using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;
using DotNet.Testcontainers.Images;
using DotNet.Testcontainers.Networks;
using Streaming.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Streaming.Tests.Deployment;

/// <summary>
/// One service image beside PostgreSQL's, started through Testcontainers on a network of their own: the image's health
/// check follows the database (ready while it answers, not ready while it is down, ready again when it is back) and the
/// process rides the outage out rather than exiting.
/// </summary>
[Collection(DeploymentCollection.Name)]
public sealed class ServiceContainerTests(ITestOutputHelper output) : IAsyncLifetime
{
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    readonly string _password = Guid.NewGuid().ToString("N");
    INetwork? _network;
    IContainer? _postgres;
    IContainer? _projector;

    static ServiceContainerTests()
    {
        // The Debian engine speaks API 1.41; no registry is reachable, so Ryuk (an image) cannot be pulled: every
        // container here is removed by DisposeAsync instead.
        Environment.SetEnvironmentVariable("DOCKER_API_VERSION", Environment.GetEnvironmentVariable("DOCKER_API_VERSION") ?? "1.41");
        Environment.SetEnvironmentVariable("TESTCONTAINERS_RYUK_DISABLED", "true");
    }

    public async Task InitializeAsync()
    {
        await Docker.RequireImagesAsync();
        _network = new NetworkBuilder().WithName("streaming-test-" + Guid.NewGuid().ToString("N")[..10]).Build();
        await _network.CreateAsync();
        _postgres = new ContainerBuilder($"streaming/postgres:{Docker.Tag}")
            .WithImagePullPolicy(PullPolicy.Never)
            .WithNetwork(_network)
            .WithNetworkAliases("postgres")
            .WithEnvironment("POSTGRES_USER", "streaming")
            .WithEnvironment("POSTGRES_PASSWORD", _password)
            .WithEnvironment("POSTGRES_DB", "streaming")
            .WithWaitStrategy(Wait.ForUnixContainer().UntilContainerIsHealthy(failingStreak: 60))
            .Build();
        _projector = new ContainerBuilder($"streaming/projector:{Docker.Tag}")
            .WithImagePullPolicy(PullPolicy.Never)
            .WithNetwork(_network)
            .WithEnvironment("ConnectionStrings__EventStore", $"Host=postgres;Port=5432;Username=streaming;Password={_password};Database=streaming")
            .WithEnvironment("Kafka__BootstrapServers", "kafka:9092")
            .WithWaitStrategy(Wait.ForUnixContainer().UntilContainerIsHealthy(failingStreak: 60))
            .Build();
    }

    [Fact]
    public async Task A_service_is_ready_while_its_database_answers_not_ready_while_it_is_down_and_ready_again_after_without_restarting()
    {
        var succeeded = false;
        try
        {
            // Given PostgreSQL and the Projector, healthy
            await _postgres!.StartAsync();
            await _projector!.StartAsync();
            Assert.Equal("healthy", await Docker.HealthAsync(_projector.Id));
            var started = await StartedAtAsync();

            // When the database stops, the Projector's readiness fails
            await _postgres.StopAsync();
            await Eventually.Get(() => Docker.HealthAsync(_projector.Id), h => h == "unhealthy", Timeout, "the Projector to turn unhealthy");

            // Then, the database back, it is ready again: the same process, never restarted
            await _postgres.StartAsync();
            await Eventually.Get(() => Docker.HealthAsync(_projector.Id), h => h == "healthy", Timeout, "the Projector to turn healthy again");
            Assert.Equal(started, await StartedAtAsync());
            succeeded = true;
        }
        finally
        {
            if (!succeeded)
            {
                foreach (var container in new[] { _postgres, _projector })
                {
                    var (_, logs) = container is null ? (0, "") : await Docker.RunAsync("docker", $"logs --tail 60 {container.Name.TrimStart('/')}", TimeSpan.FromSeconds(30));
                    output.WriteLine(logs);
                }
            }
        }
    }

    Task<string> StartedAtAsync() =>
        Docker.CheckedAsync("docker", $"inspect --format {{{{.State.StartedAt}}}}/{{{{.RestartCount}}}} {_projector!.Id}", TimeSpan.FromSeconds(30));

    public async Task DisposeAsync()
    {
        foreach (var container in new[] { _projector, _postgres })
        {
            if (container is not null)
            {
                await container.DisposeAsync();
            }
        }
        if (_network is not null)
        {
            await _network.DeleteAsync();
            await _network.DisposeAsync();
        }
    }
}
