namespace Streaming.Tests.Reliability;

/// <summary>
/// The fault suite's tests share one PostgreSQL cluster and reference run, one at a time, beside the other collections
/// (its checks compare signals, decisions and rows, not timings; alone at the end it left a core idle for minutes).
/// </summary>
[CollectionDefinition(Name)]
public sealed class FaultSuiteCollection : ICollectionFixture<FaultSuite>
{
    public const string Name = "fault suite";
}
