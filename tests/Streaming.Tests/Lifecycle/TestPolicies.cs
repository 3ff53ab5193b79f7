using Streaming.Lifecycle;

namespace Streaming.Tests.Lifecycle;

/// <summary>Small policies for tests of one rule at a time.</summary>
static class TestPolicies
{
    /// <summary>Phases a → b with one gate: no soak unless given, promote after one passing evaluation, no demotion unless given.</summary>
    public static LifecyclePolicy TwoPhases(
        IReadOnlyList<Criterion> promote,
        TimeSpan? window = null,
        TimeSpan? soak = null,
        int promoteAfter = 1,
        GateRule? demote = null,
        QuarantineRule? quarantine = null,
        string name = "test") =>
        new(name, 1, ["a", "b"],
            [new PhaseGate("a", "b", soak ?? TimeSpan.Zero, new GateRule(window ?? TimeSpan.FromMinutes(60), promoteAfter, promote), demote)],
            quarantine, LabelSelector.Everything, 0);
}
