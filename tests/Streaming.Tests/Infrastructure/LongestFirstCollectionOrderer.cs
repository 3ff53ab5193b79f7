using Streaming.Tests.Reliability;
using Streaming.Tests.Surface;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Streaming.Tests.Infrastructure;

/// <summary>
/// Starts the collections that take longest first, so the run does not end on one long collection with the other
/// slots idle (xunit.runner.json runs four collections at a time; each waits mostly on processes, brokers and
/// browsers): the surface tests (one shared system, minutes of tests one after another), the fault suite, the run
/// script's. The deployment tests follow them when test.sh's background build has its base images (the service images
/// take a minute or two more, which they wait for), and go last while the base images are still being built from
/// nothing (debootstrap: minutes), so that they do not hold a slot all that time.
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
        // Processes, group sessions and takeovers (30-60 s a class): a run that started them last ended on them alone.
        "Test collection for " + typeof(Ownership.SharedPromoterTests).FullName,
        "Test collection for " + typeof(Ingest.SeveralInstancesTests).FullName,
        "Test collection for " + typeof(Ownership.SharedProjectorTests).FullName,
        "Test collection for " + typeof(Ownership.PartitionOwnershipTests).FullName,
    ];

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections)
    {
        var deployment = BaseImagesPending() ? int.MaxValue : Longest.Length;
        return testCollections
            .OrderBy(c => c.DisplayName == Deployment.DeploymentCollection.Name ? deployment
                : Array.IndexOf(Longest, c.DisplayName) is var i and >= 0 ? i : Longest.Length + 1)
            .ThenBy(c => c.DisplayName, StringComparer.Ordinal)
            .ToList();
    }

    // test.sh's background build (scripts/images.sh) logs "images built (tag T, bases)" beside its status file.
    static bool BaseImagesPending()
    {
        if (Environment.GetEnvironmentVariable(Deployment.Docker.ImagesStatusVariable) is not { Length: > 0 } status || File.Exists(status))
        {
            return false;
        }
        var log = Path.ChangeExtension(status, ".log");
        return !File.Exists(log) || !File.ReadAllText(log).Contains(", bases)", StringComparison.Ordinal);
    }
}
