namespace Streaming.Lifecycle;

/// <summary>
/// A lifecycle policy as data: the phases in order, the gates between them, when a flapping job is quarantined, and
/// which jobs it governs (<see cref="Selector"/>; of several matching policies the highest <see cref="Priority"/> wins).
/// A job that has not reported a new phase <see cref="AcknowledgeWithin"/> after it was assigned (in its event time) is
/// flagged drifted; one whose criteria have not passed after <see cref="StuckAfterSoaks"/> soaks in a phase is stuck.
/// </summary>
public sealed record LifecyclePolicy(
    string Name,
    int Version,
    IReadOnlyList<string> Phases,
    IReadOnlyList<PhaseGate> Gates,
    QuarantineRule? Quarantine,
    LabelSelector Selector,
    int Priority,
    TimeSpan? AcknowledgeWithin = null,
    int StuckAfterSoaks = LifecyclePolicy.DefaultStuckAfterSoaks,
    string PriorityLabel = LifecyclePolicy.DefaultPriorityLabel,
    GateControls? Controls = null)
{
    /// <summary>Silence, promotion windows and how pauses treat demotions (<see cref="GateControls.None"/> when the policy says nothing).</summary>
    public GateControls Gating => Controls ?? GateControls.None;

    public const int DefaultStuckAfterSoaks = 3;

    /// <summary>The label whose whole-number value orders jobs waiting for a wave's slot (higher first; missing is 0).</summary>
    public const string DefaultPriorityLabel = "priority";

    public string Id => $"{Name}@{Version}";

    public string FirstPhase => Phases[0];

    /// <summary>The longest window any gate looks at: how much history a job's state has to keep.</summary>
    public TimeSpan LongestWindow
    {
        get
        {
            var longest = TimeSpan.Zero;
            for (var i = 0; i < Gates.Count; i++)
            {
                longest = Max(longest, Max(Gates[i].Promote.Window, Gates[i].Demote?.Window ?? TimeSpan.Zero));
            }
            return longest;
        }
    }

    public bool HasPhase(string phase) => IndexOf(phase) >= 0;

    /// <summary>The phase after <paramref name="phase"/>, or null for the last or an unknown phase.</summary>
    public string? NextPhase(string phase)
    {
        var index = IndexOf(phase);
        return index >= 0 && index + 1 < Phases.Count ? Phases[index + 1] : null;
    }

    /// <summary>The phase before <paramref name="phase"/>, or null for the first or an unknown phase.</summary>
    public string? PreviousPhase(string phase)
    {
        var index = IndexOf(phase);
        return index > 0 ? Phases[index - 1] : null;
    }

    /// <summary>The gate out of <paramref name="phase"/>, or null for a terminal phase.</summary>
    public PhaseGate? GateFrom(string phase)
    {
        for (var i = 0; i < Gates.Count; i++)
        {
            if (string.Equals(Gates[i].From, phase, StringComparison.Ordinal))
            {
                return Gates[i];
            }
        }
        return null;
    }

    /// <summary>The gate a job passed to reach <paramref name="phase"/>, or null for the first phase.</summary>
    public PhaseGate? AdmissionGate(string phase)
    {
        for (var i = 0; i < Gates.Count; i++)
        {
            if (string.Equals(Gates[i].To, phase, StringComparison.Ordinal))
            {
                return Gates[i];
            }
        }
        return null;
    }

    static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    int IndexOf(string phase)
    {
        for (var i = 0; i < Phases.Count; i++)
        {
            if (string.Equals(Phases[i], phase, StringComparison.Ordinal))
            {
                return i;
            }
        }
        return -1;
    }
}
