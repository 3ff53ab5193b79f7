using Streaming.EventStore;
using Streaming.Lifecycle;

namespace Streaming.Projections;

/// <summary>
/// Runs a <see cref="DecisionEngine"/> over events in memory, keeping every job's state and every decision: for
/// backtests of recorded history and for tests. Events go in log order; control streams are observed, job streams folded.
/// </summary>
public sealed class DecisionReplay(DecisionEngine engine)
{
    readonly Dictionary<string, JobLifecycle> _states = new(StringComparer.Ordinal);
    readonly List<PhaseDecision> _decisions = [];
    readonly List<BreakerChange> _breakerChanges = [];

    public DecisionEngine Engine => engine;

    public IReadOnlyDictionary<string, JobLifecycle> States => _states;

    public IReadOnlyList<PhaseDecision> Decisions => _decisions;

    public IReadOnlyList<BreakerChange> BreakerChanges => _breakerChanges;

    public long Events { get; private set; }

    public void Apply(RecordedEvent recorded)
    {
        Events++;
        if (ControlStreams.IsControl(recorded.StreamId))
        {
            engine.Observe(recorded);
        }
        else
        {
            var state = _states.TryGetValue(recorded.StreamId, out var held) ? held : JobLifecycleDecider.Initial(recorded.StreamId);
            _states[recorded.StreamId] = engine.Apply(state, recorded);
        }
        if (engine.HasPending)
        {
            foreach (var (decision, _) in engine.Decisions)
            {
                _decisions.Add(decision);
            }
            _breakerChanges.AddRange(engine.BreakerChanges);
            engine.ClearPending();
        }
    }
}
