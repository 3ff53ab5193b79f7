using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.LifecycleEvents;
using Streaming.Projections;
using Streaming.Projections.Tail;

namespace Streaming.Promoter.Decisions;

/// <summary>
/// Runs a <see cref="DecisionEngine"/> over events in memory, keeping every job's state and every decision: for
/// backtests of recorded history and for tests. Events go in log order; control streams are observed, job streams folded.
/// An event the engine cannot apply is skipped for its stream only, as the live Promoter does, and counted in <see cref="Poisoned"/>.
/// </summary>
public sealed class DecisionReplay(DecisionEngine engine)
{
    readonly Dictionary<string, JobLifecycle> _states = new(StringComparer.Ordinal);
    readonly List<PhaseDecision> _decisions = [];
    readonly List<BreakerChange> _breakerChanges = [];
    readonly List<PromotionDeferred> _deferrals = [];
    readonly List<PoisonedEvent> _poisoned = [];

    public DecisionEngine Engine => engine;

    public IReadOnlyDictionary<string, JobLifecycle> States => _states;

    public IReadOnlyList<PhaseDecision> Decisions => _decisions;

    public IReadOnlyList<BreakerChange> BreakerChanges => _breakerChanges;

    public IReadOnlyList<PromotionDeferred> Deferrals => _deferrals;

    /// <summary>Events the engine could not apply, each skipped for its stream.</summary>
    public IReadOnlyList<PoisonedEvent> Poisoned => _poisoned;

    public JobLifecycle StateOf(string jobId) => _states.TryGetValue(jobId, out var held) ? held : JobLifecycleDecider.Initial(jobId);

    /// <summary>A stored event, decoded here: for tests that write the log as it would be stored.</summary>
    public void Apply(RecordedEvent recorded) => Apply(EventDecoder.Decode(recorded));

    public void Apply(LogEvent logEvent)
    {
        try
        {
            if (ControlStreams.IsControl(logEvent.StreamId))
            {
                Collect(engine.Observe(logEvent));
                return;
            }
            var (state, outcome) = engine.Apply(StateOf(logEvent.StreamId), logEvent);
            _states[logEvent.StreamId] = state;
            Collect(outcome);
        }
        catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException))
        {
            _poisoned.Add(PoisonedEvent.Of(DecisionFold.CheckpointName, logEvent, e));
        }
    }

    /// <summary>A job's signal, possibly not as recorded, as <see cref="DecisionEngine.ApplySignal"/>.</summary>
    public void ApplySignal(LogEvent logEvent, SignalRecorded signal)
    {
        try
        {
            var (state, outcome) = engine.ApplySignal(StateOf(logEvent.StreamId), logEvent.Event, signal);
            _states[logEvent.StreamId] = state;
            Collect(outcome);
        }
        catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException))
        {
            _poisoned.Add(PoisonedEvent.Of(DecisionFold.CheckpointName, logEvent, e));
        }
    }

    void Collect(DecisionOutcome outcome)
    {
        if (outcome.IsEmpty)
        {
            return;
        }
        foreach (var made in outcome.Decisions)
        {
            _decisions.Add(made.Decision);
        }
        _breakerChanges.AddRange(outcome.BreakerChanges);
        _deferrals.AddRange(outcome.Deferrals);
    }
}
