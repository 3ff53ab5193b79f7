namespace Streaming.Tests.Deployment;

/// <summary>The deployment tests share one Docker engine and the machine's two cores: they run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class DeploymentCollection
{
    public const string Name = "deployment";
}
