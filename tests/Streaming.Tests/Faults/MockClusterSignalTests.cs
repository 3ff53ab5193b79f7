using System.Globalization;
using Streaming.Embedded.Broker;

namespace Streaming.Tests.Faults;

/// <summary>
/// librdkafka's mock cluster ends when a poll on its thread fails, interrupted by a signal too; a child process's
/// SIGCHLD sent to this process may land on any thread that does not block it.
/// </summary>
public sealed class MockClusterSignalTests
{
    const int SigChld = 17;
    const int SigTerm = 15;

    [Fact]
    public void The_clusters_thread_blocks_every_signal_meant_for_the_process()
    {
        // Given a cluster
        using var cluster = EmbeddedKafkaCluster.Start(brokers: 1);

        // When its thread (librdkafka names it rdk:mock; other tests' clusters may have theirs) is looked up in this process
        var masks = Directory.GetDirectories("/proc/self/task")
            .Where(task => File.ReadAllText(Path.Combine(task, "comm")).Trim() == "rdk:mock")
            .Select(task => File.ReadLines(Path.Combine(task, "status")).Single(line => line.StartsWith("SigBlk:", StringComparison.Ordinal)))
            .Select(line => ulong.Parse(line["SigBlk:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture))
            .ToList();

        // Then each blocks SIGCHLD and SIGTERM
        Assert.NotEmpty(masks);
        Assert.All(masks, mask =>
        {
            Assert.True((mask & (1UL << (SigChld - 1))) != 0, $"SIGCHLD not blocked: {mask:x16}");
            Assert.True((mask & (1UL << (SigTerm - 1))) != 0, $"SIGTERM not blocked: {mask:x16}");
        });
    }
}
