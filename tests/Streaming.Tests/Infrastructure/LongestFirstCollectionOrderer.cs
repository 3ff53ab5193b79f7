using Streaming.Tests.Reliability;
using Streaming.Tests.Surface;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Streaming.Tests.Infrastructure;

/// <summary>
/// Starts the collections that take longest first, so the run does not end on one long collection with the other
/// slots idle (xunit.runner.json runs four collections at a time; each waits mostly on processes, brokers and
/// browsers): the surface tests (one shared system, a few minutes of tests one after another), the fault suite, the
/// run script's. The deployment tests go last while test.sh's background image build has not finished, so they wait
/// on it as little as possible; when the images are already there they start with the other long ones.
/// </summary>
public sealed class LongestFirstCollectionOrderer : ITestCollectionOrderer
{
    static readonly string[] Longest =
    [
        SurfaceCollection.Name,
        FaultSuiteCollection.Name,
        "Test collection for " + typeof(Supervision.RunScriptTests).FullName,
        "Test collection for " + typeof(EndToEnd.GateBacktestTests).FullName,
        "Test collection for " + typeof(EndToEnd.OverrideTests).FullName,
    ];

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections)
    {
        var imagesPending = Environment.GetEnvironmentVariable(Deployment.Docker.ImagesStatusVariable) is { Length: > 0 } status && !File.Exists(status);
        return testCollections
            .OrderBy(c => c.DisplayName == Deployment.DeploymentCollection.Name ? (imagesPending ? 2 : 0) : Array.IndexOf(Longest, c.DisplayName) >= 0 ? 0 : 1)
            .ThenBy(c => Array.IndexOf(Longest, c.DisplayName) is var i and >= 0 ? i : Longest.Length)
            .ThenBy(c => c.DisplayName, StringComparer.Ordinal)
            .ToList();
    }
}
