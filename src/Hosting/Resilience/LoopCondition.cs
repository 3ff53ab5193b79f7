namespace Streaming.Hosting.Resilience;

/// <summary>Whether a loop runs, waits out a transient outage, or was stopped by a fault.</summary>
public enum LoopCondition
{
    Running,
    WaitingOutOutage,
    Failed,
}
