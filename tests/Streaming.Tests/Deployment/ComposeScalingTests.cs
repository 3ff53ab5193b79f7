using System.Text.Json;

namespace Streaming.Tests.Deployment;

/// <summary>
/// The production shape's files (docker-compose.yml and its default override) scaled with docker-compose 1.29's
/// <c>--scale</c>: every copy of Ingest, the Projector and the Promoter is a container of its own, with no fixed name,
/// host port or group instance id, and the Projectors and Promoters share the partitions through their groups. The
/// containers are created, not started (real Kafka's image is not reachable here); the compose test runs them.
/// </summary>
[Collection(DeploymentCollection.Name)]
public sealed class ComposeScalingTests : IAsyncLifetime
{
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    static readonly Dictionary<string, int> Copies = new() { ["ingest"] = 2, ["projector"] = 2, ["promoter"] = 3 };

    ComposeProject? _project;

    public async Task InitializeAsync()
    {
        await Docker.RequireImagesAsync();
        _project = await ComposeProject.CreateAsync();
    }

    [Fact]
    public async Task Scaled_services_get_containers_of_their_own_without_a_host_port_or_an_instance_id_and_the_projectors_and_promoters_own_partitions()
    {
        var project = _project!;
        try
        {
            // When Ingest, the Projector and the Promoter are scaled to 2, 2 and 3 copies
            var scale = string.Join(' ', Copies.Select(c => $"--scale {c.Key}={c.Value}"));
            await project.ComposeProductionAsync($"up --no-start --no-deps {scale} {string.Join(' ', Copies.Keys)}", Timeout);

            // Then each copy is a container of its own, none publishing a host port
            var ids = (await Docker.CheckedAsync("docker", $"ps -aq --filter label=com.docker.compose.project={project.Name}", Timeout))
                .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            using var inspected = JsonDocument.Parse(await Docker.CheckedAsync("docker", $"inspect {string.Join(' ', ids)}", Timeout));
            var containers = inspected.RootElement.EnumerateArray().ToList();
            Assert.Equal(Copies.Values.Sum(), containers.Count);
            Assert.Equal(containers.Count, containers.Select(c => c.GetProperty("Name").GetString()).Distinct().Count());
            foreach (var (service, copies) in Copies)
            {
                var ofService = containers.Where(c => c.GetProperty("Config").GetProperty("Labels").GetProperty("com.docker.compose.service").GetString() == service).ToList();
                Assert.Equal(copies, ofService.Count);
                foreach (var container in ofService)
                {
                    var bindings = container.GetProperty("HostConfig").GetProperty("PortBindings");
                    Assert.True(bindings.ValueKind != JsonValueKind.Object || !bindings.EnumerateObject().Any(), $"{service} publishes {bindings}");

                    // And the store's log has job-signals' partitions, which the Projectors and Promoters share by
                    // ownership as dynamic members
                    var environment = container.GetProperty("Config").GetProperty("Env").EnumerateArray().Select(e => e.GetString()!).ToList();
                    Assert.Contains("Store__LogPartitions=12", environment);
                    Assert.Contains("Kafka__Partitions=12", environment);
                    Assert.DoesNotContain(environment, e => e.Contains("__InstanceId=", StringComparison.Ordinal));
                    if (service != "ingest")
                    {
                        Assert.Contains($"{char.ToUpperInvariant(service[0])}{service[1..]}__Ownership__Enabled=true", environment);
                    }
                }
            }
        }
        finally
        {
            await project.ComposeProductionAsync("down --remove-orphans", Timeout);
        }
    }

    public Task DisposeAsync() => _project?.DisposeAsync().AsTask() ?? Task.CompletedTask;
}
