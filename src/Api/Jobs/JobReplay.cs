using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.LifecycleEvents;
using Streaming.Projections;

namespace Streaming.Api.Jobs;

/// <summary>
/// Folds a job's stored events through the lifecycle core as the Projector does: signals under the policy
/// <paramref name="policyFor"/> names, decisions and overrides as recorded. For explanations (a job's criteria over
/// time, its state at an event time); nothing is decided.
/// </summary>
public static class JobReplay
{
    public static (JobLifecycle State, LifecyclePolicy? Policy) Fold(
        string jobId,
        IEnumerable<RecordedEvent> events,
        Func<SignalRecorded, LifecyclePolicy?> policyFor,
        Action<JobLifecycle, SignalRecorded, LifecyclePolicy?>? afterSignal = null,
        Action<PhaseChanged>? afterDecision = null)
    {
        var state = JobLifecycleDecider.Initial(jobId);
        LifecyclePolicy? policy = null;
        foreach (var recorded in events)
        {
            switch (recorded.Type)
            {
                case SignalRecorded.EventType:
                    var signal = ContractsJson.Deserialize<SignalRecorded>(recorded.Data);
                    policy = policyFor(signal);
                    var sample = SignalSamples.From(recorded, signal);
                    state = policy is null ? JobLifecycleDecider.Record(state, sample) : JobLifecycleDecider.Evolve(state, sample, policy);
                    afterSignal?.Invoke(state, signal, policy);
                    break;
                case PhaseChanged.EventType:
                    var change = ContractsJson.Deserialize<PhaseChanged>(recorded.Data);
                    state = JobLifecycleDecider.Apply(state, SignalSamples.ToDecision(change));
                    afterDecision?.Invoke(change);
                    break;
                case OverrideSet.EventType:
                    state = JobLifecycleDecider.Override(state, OverrideEvents.From(ContractsJson.Deserialize<OverrideSet>(recorded.Data)), policy, recorded.Version).State;
                    break;
                case OverrideEnded.EventType:
                    var ended = ContractsJson.Deserialize<OverrideEnded>(recorded.Data);
                    state = state.ActiveOverride?.Id == ended.OverrideId ? state with { ActiveOverride = null } : state;
                    break;
            }
        }
        return (state, policy);
    }
}
