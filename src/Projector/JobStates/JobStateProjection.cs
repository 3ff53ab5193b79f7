using Npgsql;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.LifecycleEvents;
using Streaming.Projections;
using Streaming.Projections.Tail;

namespace Streaming.Projector.JobStates;

/// <summary>Folds each job's stream into the row the job-level dashboard shows; the system-level counts are a view over these rows.</summary>
public sealed class JobStateProjection(NpgsqlDataSource dataSource, ActivePolicies policies, KnownIssues knownIssues, JobStateGeneration generation)
    : IStreamFold<JobStateView>
{
    public JobStateGeneration Generation => generation;

    public string Name => generation.CheckpointName;

    public bool HasState(string streamId) => !ControlStreams.IsControl(streamId);

    public void Observe(LogEvent logEvent)
    {
        policies.Observe(logEvent);
        knownIssues.Observe(logEvent);
    }

    public async Task ResumeAsync(LogPositions checkpoint, CancellationToken cancellationToken)
    {
        var control = checkpoint.Of(LogPartitioner.ControlPartition);
        await policies.LoadAsync(dataSource, control, cancellationToken);
        await knownIssues.LoadAsync(dataSource, control, cancellationToken);
    }

    public JobStateView Create(string streamId) =>
        new(JobLifecycleDecider.Initial(streamId), new Dictionary<string, string>(), null, null, 0);

    public JobStateView Apply(JobStateView state, LogEvent logEvent)
    {
        var recorded = logEvent.Event;
        if (recorded.Version <= state.StreamVersion)
        {
            // Written already: the checkpoint stayed before a change that waited (CanWait), and is folded again from there.
            return state;
        }
        switch (recorded.Type)
        {
            case SignalRecorded.EventType:
                return ApplySignal(state, recorded, logEvent.Read<SignalRecorded>());
            case PromotionDeferred.EventType:
                var deferred = logEvent.Read<PromotionDeferred>();
                return state with { WaitingFor = deferred.Reason, StreamVersion = recorded.Version };
            case JobSilenced.EventType:
                return state with { Silent = true, StreamVersion = recorded.Version };
            case PhaseChanged.EventType:
                var change = logEvent.Read<PhaseChanged>();
                return state with
                {
                    Lifecycle = JobLifecycleDecider.Apply(state.Lifecycle, SignalSamples.ToDecision(change)),
                    LastDirection = change.Direction,
                    LastChangedAt = change.DecidedAt,
                    StreamVersion = recorded.Version,
                    WaitingFor = null,
                    AwaitingApproval = false,
                    Approved = false,
                };
            case ApprovalRequested.EventType:
                return state with { AwaitingApproval = true, Approved = false, StreamVersion = recorded.Version };
            case ApprovalGranted.EventType:
                var granted = logEvent.Read<ApprovalGranted>();
                // As the Promoter: an approval counts only for the request of its gate that waits for one.
                return state with
                {
                    Approved = state.Approved || (state.AwaitingApproval && granted.From == state.Lifecycle.AssignedPhase),
                    StreamVersion = recorded.Version,
                };
            case ApprovalLapsed.EventType:
                return state with { AwaitingApproval = false, Approved = false, StreamVersion = recorded.Version };
            case OverrideSet.EventType:
                var set = logEvent.Read<OverrideSet>();
                var governing = state.Lifecycle.Policy is { } name ? policies.Named(name) : null;
                // The phase change an override makes arrives as its own event, and is applied then.
                return state with
                {
                    Lifecycle = JobLifecycleDecider.Override(state.Lifecycle, OverrideEvents.From(set), governing, recorded.Version).State,
                    StreamVersion = recorded.Version,
                };
            case OverrideEnded.EventType:
                var ended = logEvent.Read<OverrideEnded>();
                return state with
                {
                    Lifecycle = state.Lifecycle.ActiveOverride?.Id == ended.OverrideId ? state.Lifecycle with { ActiveOverride = null } : state.Lifecycle,
                    StreamVersion = recorded.Version,
                };
            default:
                return state with { StreamVersion = recorded.Version };
        }
    }

    /// <summary>
    /// A change can wait when it moves only what a signal moves in every job (metrics, the window, the streaks, the last
    /// signal's seq and time): nothing the jobs list filters or the counts count by. A job's first row, a phase change,
    /// an acknowledgement, a new policy, label, flag, override or queue place is written with the next write. (Stuck and
    /// drifted follow the event time; a job that becomes either with a change that waits shows it when that is written.)
    /// </summary>
    public bool CanWait(JobStateView before, JobStateView after)
    {
        if (ReferenceEquals(before, after))
        {
            return true;
        }
        var (was, now) = (before.Lifecycle, after.Lifecycle);
        return before.StreamVersion > 0
            && ReferenceEquals(before.Labels, after.Labels)
            && before.LastDirection == after.LastDirection
            && before.LastChangedAt == after.LastChangedAt
            && before.WaitingFor == after.WaitingFor
            && before.Poisoned == after.Poisoned
            && before.AwaitingApproval == after.AwaitingApproval
            && before.Approved == after.Approved
            && before.Silent == after.Silent
            && was.LastSignalAt is not null
            && was.AssignedPhase == now.AssignedPhase
            && was.AssignedAt == now.AssignedAt
            && was.PhaseSince == now.PhaseSince
            && was.LastReportedPhase == now.LastReportedPhase
            && was.PhaseChanges == now.PhaseChanges
            && was.ReportedUnknownPhase == now.ReportedUnknownPhase
            && was.QuarantinedAt == now.QuarantinedAt
            && was.Policy == now.Policy
            && ReferenceEquals(was.ActiveOverride, now.ActiveOverride);
    }

    public JobStateView Poisoned(JobStateView state) => state.Poisoned ? state : state with { Poisoned = true };

    /// <summary>A signal event, its body already read.</summary>
    JobStateView ApplySignal(JobStateView state, RecordedEvent recorded, SignalRecorded signal)
    {
        var sample = SignalSamples.From(recorded, signal);
        var policy = policies.For(signal.Labels);
        var lifecycle = policy is not null
            ? JobLifecycleDecider.Evolve(state.Lifecycle, sample, policy)
            : JobLifecycleDecider.Record(state.Lifecycle, sample);
        return state with
        {
            Lifecycle = lifecycle,
            // Labels rarely change: keeping the held instance lets the parsed copy die young.
            Labels = SameLabels(state.Labels, signal.Labels) ? state.Labels : signal.Labels,
            StreamVersion = recorded.Version,
            WaitingFor = state.WaitingFor is not null && StillWaits(lifecycle, policy) ? state.WaitingFor : null,
            Silent = false,
        };
    }

    // The Promoter takes a job out of the queue as soon as its policy no longer wants the promotion.
    static bool StillWaits(JobLifecycle lifecycle, LifecyclePolicy? policy) =>
        policy is not null && JobLifecycleDecider.Decide(lifecycle, policy) is { Direction: PhaseDecision.Promote };

    static bool SameLabels(IReadOnlyDictionary<string, string> held, IReadOnlyDictionary<string, string> reported)
    {
        if (ReferenceEquals(held, reported))
        {
            return true;
        }
        if (held.Count != reported.Count)
        {
            return false;
        }
        foreach (var (name, value) in reported)
        {
            if (!held.TryGetValue(name, out var heldValue) || !string.Equals(heldValue, value, StringComparison.Ordinal))
            {
                return false;
            }
        }
        return true;
    }

    public Task<IReadOnlyDictionary<string, JobStateView>> LoadAsync(NpgsqlConnection connection, IReadOnlyList<string> streamIds, CancellationToken cancellationToken) =>
        JobStateTable.LoadAsync(connection, generation, streamIds, cancellationToken);

    public Task CommitAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task SaveAsync(NpgsqlTransaction transaction, IReadOnlyList<KeyValuePair<string, JobStateView>> changed, CancellationToken cancellationToken) =>
        PrepareSave(changed)(transaction, cancellationToken);

    public Func<NpgsqlTransaction, CancellationToken, Task> PrepareSave(IReadOnlyList<KeyValuePair<string, JobStateView>> changed)
    {
        var rows = JobStateRows.From(changed, Context);
        return (transaction, cancellationToken) => rows.WriteAsync(transaction, generation, cancellationToken);
    }

    JobContext Context(JobStateView view) =>
        new(policies.For(view.Labels), [.. knownIssues.Holding(view.Lifecycle.JobId, view.Labels).Select(i => i.IssueId)]);
}
