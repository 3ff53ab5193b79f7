using System.Collections.Concurrent;

namespace Streaming.Hosting.Resilience;

/// <summary>
/// What each long-running loop of the process says of itself: running, waiting out an outage (and since when, and
/// why), or stopped by a fault. Health endpoints read it: the process is ready only while no loop is in an outage.
/// </summary>
public sealed class LoopHealth
{
    readonly ConcurrentDictionary<string, LoopState> _loops = new(StringComparer.Ordinal);

    public void Running(string loop) => _loops[loop] = new LoopState(loop, LoopCondition.Running, null, null);

    public void Waiting(string loop, DateTimeOffset since, string reason) =>
        _loops[loop] = new LoopState(loop, LoopCondition.WaitingOutOutage, since, reason);

    public void Failed(string loop, string reason) =>
        _loops[loop] = new LoopState(loop, LoopCondition.Failed, DateTimeOffset.UtcNow, reason);

    public IReadOnlyList<LoopState> Snapshot() => [.. _loops.Values.OrderBy(l => l.Loop, StringComparer.Ordinal)];

    public bool IsReady => _loops.Values.All(l => l.Condition == LoopCondition.Running);
}
