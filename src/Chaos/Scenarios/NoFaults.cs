namespace Streaming.Chaos.Scenarios;

/// <summary>The uninterrupted run every faulty run is compared with.</summary>
public sealed class NoFaults : IFaultPlan
{
    public string Name => "reference (no faults)";

    public IReadOnlyList<string> Injected => [];

    public int ExpectedExits => 0;

    public Task AtAsync(long sent, FaultContext context, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task FinishAsync(FaultContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}
