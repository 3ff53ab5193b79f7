using System.Globalization;
using Streaming.Chaos.Environment;

namespace Streaming.Chaos.Scenarios;

/// <summary>
/// kill -9 of the services at points drawn from the seed (between 5% and 95% of the stream), each service in turn in
/// an order drawn from the seed too; with several instances, a copy of it drawn from the seed, and with several shards a
/// Projector or Promoter of a shard drawn from the seed. The supervisor restarts each. A process is killed again only
/// once it runs again.
/// </summary>
public sealed class KillPlan : IFaultPlan
{
    readonly Queue<(long At, string Service)> _points;
    readonly Dictionary<string, int> _killed = new(StringComparer.Ordinal);
    readonly List<string> _injected = [];

    public KillPlan(int kills, long totalMessages, int seed, Func<string, int> instancesOf, int shards = 1)
    {
        var random = new Random(seed);
        var order = SupervisedServices.Services.OrderBy(_ => random.Next()).ToList();
        var points = Enumerable.Range(0, kills).Select(_ => (long)(totalMessages * (0.05 + 0.9 * random.NextDouble()))).Order().ToList();
        // Copies, then shards, are drawn after the points, so a single-instance, single-shard plan is the one it always was
        // for its seed, and a single-shard one with several instances too.
        string Process(string service)
        {
            var instances = instancesOf(service);
            var copy = instances > 1 ? random.Next(1, instances + 1) : 1;
            var shard = shards > 1 && SupervisedServices.RunsPerShard(service) ? random.Next(shards) : 0;
            return SupervisedServices.ProcessName(service, shard, copy, instances, shards);
        }
        _points = new Queue<(long, string)>(points.Select((at, i) => (at, Process(order[i % order.Count]))));
        ExpectedExits = kills;
    }

    public string Name => "kill -9";

    public IReadOnlyList<string> Injected => _injected;

    public int ExpectedExits { get; }

    public async Task AtAsync(long sent, FaultContext context, CancellationToken cancellationToken)
    {
        while (_points.Count > 0 && _points.Peek().At <= sent)
        {
            var (_, service) = _points.Dequeue();
            // A service killed a moment ago may not run again yet: its next kill waits for the restart.
            var pid = await context.Services.WaitForPidAsync(service, _killed.GetValueOrDefault(service), TimeSpan.FromMinutes(2), cancellationToken);
            Streaming.Hosting.Supervision.PosixSignals.Send(pid, Streaming.Hosting.Supervision.PosixSignals.Kill);
            _killed[service] = pid;
            _injected.Add(string.Create(CultureInfo.InvariantCulture, $"kill -9 {service} (pid {pid}) after {sent:N0} messages"));
        }
    }

    /// <summary>Each killed service runs again under a new pid.</summary>
    public async Task FinishAsync(FaultContext context, CancellationToken cancellationToken)
    {
        foreach (var (service, pid) in _killed)
        {
            await context.Services.WaitForPidAsync(service, pid, TimeSpan.FromMinutes(2), cancellationToken);
        }
    }
}
