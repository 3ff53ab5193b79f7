namespace Streaming.Lifecycle;

/// <summary>A lifecycle policy as data: the phases in order and the gates between them.</summary>
public sealed record LifecyclePolicy(
    string Name,
    int Version,
    IReadOnlyList<string> Phases,
    IReadOnlyList<PhaseGate> Gates,
    int DemoteAfterConsecutiveBreaches)
{
    public string Id => $"{Name}@{Version}";

    public string FirstPhase => Phases[0];

    /// <summary>The longest window any gate looks at: how much history a job's state has to keep.</summary>
    public TimeSpan LongestWindow => Gates.Count == 0 ? TimeSpan.Zero : Gates.Max(g => g.Window);

    public bool HasPhase(string phase) => Phases.Contains(phase, StringComparer.Ordinal);

    /// <summary>The gate out of <paramref name="phase"/>, or null for a terminal phase.</summary>
    public PhaseGate? GateFrom(string phase)
    {
        foreach (var gate in Gates)
        {
            if (gate.From == phase)
            {
                return gate;
            }
        }
        return null;
    }

    /// <summary>The gate a job passed to reach <paramref name="phase"/>, or null for the first phase.</summary>
    public PhaseGate? AdmissionGate(string phase)
    {
        foreach (var gate in Gates)
        {
            if (gate.To == phase)
            {
                return gate;
            }
        }
        return null;
    }
}
