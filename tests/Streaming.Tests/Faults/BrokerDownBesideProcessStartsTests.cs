using System.Diagnostics;
using Confluent.Kafka;
using Streaming.Embedded.Broker;
using Xunit.Abstractions;

namespace Streaming.Tests.Faults;

/// <summary>
/// Taking a broker down closes its listening socket and binds its port again at once. A process started at that moment
/// holds a copy of the socket until it executes its program, so the socket still listens and the bind fails, and
/// librdkafka aborts the whole process on that failure (a clean-clone CI run's test host died so), unless
/// <see cref="EmbeddedKafkaCluster.SetBrokerDown"/> holds process starts off meanwhile. The processes that end send this
/// process hundreds of SIGCHLD a second, which stopped other tests' clusters in a CI run (a poll interrupted on a
/// cluster's thread ends the cluster) before the clusters' threads blocked signals: it runs alone.
/// </summary>
[Collection(ProcessStartsCollection.Name)]
public sealed class BrokerDownBesideProcessStartsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_broker_goes_down_and_up_again_while_other_threads_start_processes()
    {
        // Given a cluster, and two threads starting short processes one after the other
        using var cluster = EmbeddedKafkaCluster.Start(brokers: 1);
        using var stopping = new CancellationTokenSource();
        var started = 0;
        var starters = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            while (!stopping.IsCancellationRequested)
            {
                using var process = Process.Start(new ProcessStartInfo("/bin/true") { UseShellExecute = false })!;
                process.WaitForExit();
                Interlocked.Increment(ref started);
            }
        })).ToList();

        // When the broker goes down and up again 300 times, with 100 processes started meanwhile, or for 10 s, and in any
        // case until 20 of each (without the pause this aborted the test host within a second; each restart waits for the
        // starts in progress, about 20 ms here and far longer at the end of a CI run, where this runs alone: 300 took
        // 85 s, and one run got only 18 in 10 s beside 14,860 starts)
        var restarts = 0;
        var running = Stopwatch.StartNew();
        bool Enough() => restarts >= 20 && Volatile.Read(ref started) >= 20;
        bool Plenty() => restarts >= 300 && Volatile.Read(ref started) >= 100;
        while (running.Elapsed < TimeSpan.FromSeconds(60) && !(Enough() && (Plenty() || running.Elapsed >= TimeSpan.FromSeconds(10))))
        {
            cluster.SetBrokerDown(1);
            cluster.SetBrokerUp(1);
            restarts++;
        }
        await stopping.CancelAsync();
        await Task.WhenAll(starters);
        output.WriteLine($"{restarts} restarts beside {started} process starts in {running.Elapsed.TotalSeconds:0.0} s");
        Assert.True(restarts >= 20 && started >= 20, $"only {restarts} restarts beside {started} process starts");

        // Then this process is still here, and the broker serves again (its thread was not stopped by the signals either)
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = cluster.BootstrapServers }).Build();
        Assert.Single(admin.GetMetadata(TimeSpan.FromSeconds(30)).Brokers);
    }
}
