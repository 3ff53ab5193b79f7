using Streaming.Hosting;
using Streaming.Hosting.Kafka;
using Streaming.Promoter.Publishing;
using Streaming.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Streaming.Tests.Compose;

public sealed class ComposeFileTests
{
    readonly YamlMappingNode _services;

    public ComposeFileTests()
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(Path.Combine(RepositoryRoot.Path, "docker-compose.yml"));
        stream.Load(reader);
        _services = (YamlMappingNode)((YamlMappingNode)stream.Documents[0].RootNode)["services"];
    }

    [Theory]
    [InlineData("kafka", "apache/kafka:")]
    [InlineData("postgres", "postgres:15")]
    [InlineData("rabbitmq", "rabbitmq:3.")]
    public void Infrastructure_runs_from_the_expected_images(string service, string imagePrefix)
    {
        var image = Scalar(Service(service), "image");
        Assert.StartsWith(imagePrefix, image, StringComparison.Ordinal);
    }

    [Fact]
    public void Kafka_runs_in_kraft_mode_without_zookeeper()
    {
        var environment = Environment(Service("kafka"));
        Assert.Equal("broker,controller", environment["KAFKA_PROCESS_ROLES"]);
        Assert.DoesNotContain(_services.Children.Keys, k => k.ToString().Contains("zookeeper", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("ingest", "Ingest", new[] { "kafka", "postgres" })]
    [InlineData("projector", "Projector", new[] { "kafka", "postgres" })]
    [InlineData("promoter", "Promoter", new[] { "kafka", "postgres", "rabbitmq" })]
    public void Each_service_is_built_from_its_project_and_configured_by_the_variables_the_code_reads(string service, string project, string[] dependencies)
    {
        var node = Service(service);
        var build = (YamlMappingNode)node["build"];
        Assert.Equal(project, Scalar((YamlMappingNode)build["args"], "SERVICE"));
        Assert.True(File.Exists(Path.Combine(RepositoryRoot.Path, "src", project, project + ".csproj")), $"src/{project}/{project}.csproj is missing");
        Assert.True(File.Exists(Path.Combine(RepositoryRoot.Path, Scalar(build, "dockerfile"))), "the Dockerfile is missing");

        var environment = Environment(node);
        Assert.Contains("Host=postgres", environment[$"ConnectionStrings__{ServiceDefaults.EventStoreConnection}"], StringComparison.Ordinal);
        Assert.Equal("kafka:9092", environment["Kafka__BootstrapServers"]);
        var kafkaOptions = typeof(KafkaOptions).GetProperties().Select(p => p.Name).ToHashSet();
        foreach (var key in environment.Keys.Where(k => k.StartsWith("Kafka__", StringComparison.Ordinal)))
        {
            Assert.Contains(key["Kafka__".Length..], kafkaOptions);
        }
        var dependsOn = (YamlMappingNode)node["depends_on"];
        Assert.Equal(dependencies, dependsOn.Children.Keys.Select(k => k.ToString()).Order());
    }

    [Fact]
    public void The_promoter_publishes_to_the_rabbitmq_service_with_its_credentials()
    {
        var rabbit = Environment(Service("rabbitmq"));
        var url = new Uri(Environment(Service("promoter"))[$"{BusOptions.Section}__{nameof(BusOptions.RabbitMqUrl)}"]);
        Assert.Equal("rabbitmq", url.Host);
        Assert.Equal(5672, url.Port);
        Assert.Equal($"{rabbit["RABBITMQ_DEFAULT_USER"]}:{rabbit["RABBITMQ_DEFAULT_PASS"]}", url.UserInfo);
    }

    YamlMappingNode Service(string name) => (YamlMappingNode)_services[name];

    static Dictionary<string, string> Environment(YamlMappingNode service) =>
        ((YamlMappingNode)service["environment"]).Children.ToDictionary(p => p.Key.ToString(), p => p.Value.ToString());

    static string Scalar(YamlMappingNode node, string key) => ((YamlScalarNode)node[key]).Value!;
}
