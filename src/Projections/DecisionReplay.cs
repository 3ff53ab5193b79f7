using Streaming.Contracts.History;
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
    readonly List<PromotionDeferred> _deferrals = [];

    public DecisionEngine Engine => engine;

    public IReadOnlyDictionary<string, JobLifecycle> States => _states;

    public IReadOnlyList<PhaseDecision> Decisions => _decisions;

    public IReadOnlyList<BreakerChange> BreakerChanges => _breakerChanges;

    public IReadOnlyList<PromotionDeferred> Deferrals => _deferrals;

    public JobLifecycle StateOf(string jobId) => _states.TryGetValue(jobId, out var held) ? held : JobLifecycleDecider.Initial(jobId);

    public void Apply(RecordedEvent recorded)
    {
        if (ControlStreams.IsControl(recorded.StreamId))
        {
            engine.Observe(recorded);
        }
        else
        {
            _states[recorded.StreamId] = engine.Apply(StateOf(recorded.StreamId), recorded);
        }
        Collect();
    }

    /// <summary>A job's signal already read from its event, as <see cref="DecisionEngine.ApplySignal"/>.</summary>
    public void ApplySignal(RecordedEvent recorded, SignalRecorded signal)
    {
        _states[recorded.StreamId] = engine.ApplySignal(StateOf(recorded.StreamId), recorded, signal);
        Collect();
    }

    void Collect()
    {
        if (engine.HasPending)
        {
            foreach (var (decision, _) in engine.Decisions)
            {
                _decisions.Add(decision);
            }
            _breakerChanges.AddRange(engine.BreakerChanges);
            _deferrals.AddRange(engine.Deferrals);
            engine.ClearPending();
        }
    }
}
