namespace Streaming.Chaos.Scenarios;

/// <summary>The faults of one run, injected at points of the signal stream.</summary>
public interface IFaultPlan
{
    string Name { get; }

    /// <summary>Each fault as it was injected, in words.</summary>
    IReadOnlyList<string> Injected { get; }

    /// <summary>How many service exits the plan causes itself (its kills).</summary>
    int ExpectedExits { get; }

    /// <summary>What the plan watched while its faults lasted and found wrong, in words (none by default).</summary>
    IReadOnlyList<string> Unmet => [];

    /// <summary>Called every few hundred messages with how many were sent: injects the faults due by then.</summary>
    Task AtAsync(long sent, FaultContext context, CancellationToken cancellationToken);

    /// <summary>Called once everything was sent: ends faults still in progress (a server still down comes back).</summary>
    Task FinishAsync(FaultContext context, CancellationToken cancellationToken);
}
