using Streaming.Hosting.Resilience;

namespace Streaming.Supervisor;

/// <summary>
/// When to restart a failed process: after a backoff that grows with its recent failures (100 ms, 200 ms, … up to
/// 10 s, with jitter), and not at all once it failed more than <c>maxRestarts</c> times within <c>window</c> (a crash loop).
/// </summary>
public sealed class RestartPolicy(int maxRestarts, TimeSpan window)
{
    static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(10);

    readonly Queue<DateTime> _failures = new();

    /// <summary>Failures within the window, this one included.</summary>
    public int RecentFailures => _failures.Count;

    /// <summary>Records a failure; false when it makes a crash loop.</summary>
    public bool Failed(DateTime now)
    {
        _failures.Enqueue(now);
        while (_failures.Peek() < now - window)
        {
            _failures.Dequeue();
        }
        return _failures.Count <= maxRestarts;
    }

    public TimeSpan NextDelay => Backoff.Delay(_failures.Count, MaxDelay);
}
