namespace Streaming.Tests.Reliability;

/// <summary>The fault suite's tests share one PostgreSQL cluster and reference run, and run alone: after every other test, one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultSuiteCollection : ICollectionFixture<FaultSuite>
{
    public const string Name = "fault suite";
}
