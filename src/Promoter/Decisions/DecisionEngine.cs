using System.Globalization;
using Microsoft.Extensions.Logging;
using Streaming.Contracts.History;
using Streaming.Contracts.Text;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.Lifecycle.Approvals;
using Streaming.LifecycleEvents;
using Streaming.Projections;
using Streaming.Projections.Tail;
using Streaming.Promoter.Approvals;

namespace Streaming.Promoter.Decisions;

/// <summary>
/// The Promoter's decide function over the log, with no I/O: each job's policy run over its signals, operators'
/// overrides carried out, and the fleet's waves, queues, circuit breakers and known issues applied, all in log order.
/// Each event gives the job's next state and a <see cref="DecisionOutcome"/> for the caller to record. The live
/// Promoter, rebuilds and backtests run this same engine, so they decide the same. It holds the fleet-wide state
/// (policies in force, known issues, <see cref="Fleet"/>) that every job's decisions share.
/// </summary>
public sealed partial class DecisionEngine(ActivePolicies policies, KnownIssues knownIssues, ILogger logger)
{
    /// <summary>How much of an operator's reason a log line keeps (the API accepts up to 1,000 characters).</summary>
    public const int OperatorTextLength = 1_000;

    // What each signal's gates decided (see Signalled), and the policies' lookup handed to them, made once.
    readonly List<StreamAppend> _gatedAppends = [];
    readonly List<PhaseDecision> _gatedDemotions = [];
    Func<string, LifecyclePolicy?>? _named;

    public ActivePolicies Policies => policies;

    public KnownIssues KnownIssues => knownIssues;

    public FleetControl Fleet { get; set; } = new();

    /// <summary>The jobs waiting for an operator's approval to pass a gate that needs one.</summary>
    public ApprovalBook Approvals { get; set; } = new();

    /// <summary>Silent jobs, operators' pauses and promotion windows (see <see cref="GateKeeper"/>).</summary>
    public GateKeeper Gates { get; set; } = new();

    /// <summary>An event of a control stream: a policy version, a known issue, an operator's breaker reset.</summary>
    public DecisionOutcome Observe(LogEvent logEvent)
    {
        policies.Observe(logEvent);
        knownIssues.Observe(logEvent);
        if (ObserveBreakers(logEvent) is { } counted)
        {
            return counted;
        }
        if (ObserveGates(logEvent) is { } gated)
        {
            return gated;
        }
        if (ObserveAdmissions(logEvent) is { } admitted)
        {
            return admitted;
        }
        if (logEvent.Type != CircuitBreakerResetRequested.EventType)
        {
            return DecisionOutcome.None;
        }
        var reset = logEvent.Read<CircuitBreakerResetRequested>();
        var rule = policies.Named(reset.Policy)?.AdmissionGate(reset.Phase)?.Breaker;
        return Fleet.Reset(reset.Policy, reset.Phase, rule, reset.At, $"reset by {reset.Actor}: {reset.Reason}") is { } closed
            ? DecisionOutcome.Of(breakerChanges: [closed])
            : DecisionOutcome.None;
    }

    /// <summary>An event of a job's stream: the job's next state, and what was decided.</summary>
    public (JobLifecycle State, DecisionOutcome Outcome) Apply(JobLifecycle state, LogEvent logEvent)
    {
        var (next, outcome) = logEvent.Type switch
        {
            _ when Gates.Pending.Count > 0 && Gates.TakePending(state.JobId) is { } demotion => Apply(Demoted(state, demotion), logEvent),
            SignalRecorded.EventType => ApplySignal(state, logEvent.Event, logEvent.Read<SignalRecorded>()),
            OverrideSet.EventType => OnOverride(state, logEvent.Event, logEvent.Read<OverrideSet>()),
            ApprovalGranted.EventType => OnApproval(state, logEvent.Read<ApprovalGranted>()),
            // Phase changes and ended overrides in a job's stream are the engine's own, applied when they were made.
            _ => (state, DecisionOutcome.None),
        };
        return (next, WithAdmissions(outcome));
    }

    /// <summary>A job's signal, possibly not as recorded (a backtest's candidate reads it in the phase it assigned).</summary>
    public (JobLifecycle State, DecisionOutcome Outcome) ApplySignal(JobLifecycle state, RecordedEvent recorded, SignalRecorded signal)
    {
        var (next, outcome) = DecideSignal(state, recorded, signal);
        return (next, WithAdmissions(outcome));
    }

    (JobLifecycle State, DecisionOutcome Outcome) DecideSignal(JobLifecycle state, RecordedEvent recorded, SignalRecorded signal)
    {
        if (Gates.Pending.Count > 0 && Gates.TakePending(state.JobId) is { } silentDemotion)
        {
            state = Demoted(state, silentDemotion);
        }
        var sample = SignalSamples.From(recorded, signal);
        if (policies.For(signal.Labels) is not { } policy)
        {
            var ungoverned = JobLifecycleDecider.Record(state, sample);
            return (Followed(state, ungoverned, null), Gated(DecisionOutcome.None, Signalled(ungoverned, null, sample.EmittedAt)));
        }
        var next = JobLifecycleDecider.Evolve(state, sample, policy);
        var gated = Signalled(next, policy, sample.EmittedAt);
        List<OverrideEnded>? ended = null;
        // Only an override in force can expire: most signals make no outcome for it.
        OverrideOutcome? expiry = next.ActiveOverride is null ? null : JobLifecycleDecider.Expire(next);
        if (expiry?.Ended is { } expired)
        {
            ended = [OverrideEvents.Ended(state.JobId, expired, OverrideEnded.Expired, sample.EmittedAt)];
            next = expiry.State;
        }
        var decision = JobLifecycleDecider.Decide(next, policy);
        if (decision is { Direction: PhaseDecision.Promote } promotion)
        {
            if (policy.GateFrom(promotion.From) is { ApprovalRequired: true } && !Approvals.Permits(promotion, out var requested))
            {
                return (Followed(state, next, policy), Gated(DecisionOutcome.Of(ended: ended,
                    approvalRequested: requested is null ? null : ApprovalEvents.Requested(requested, promotion)), gated));
            }
            var breakers = new List<BreakerChange>(0);
            if (Gates.Holds(promotion, policy, out var held))
            {
                return (Followed(state, next, policy), Gated(DecisionOutcome.Of(deferral: held, ended: ended), gated));
            }
            if (!Admitted(next, promotion, policy, signal, breakers, out var deferral))
            {
                return (Followed(state, next, policy), Gated(DecisionOutcome.Of(deferral: deferral, ended: ended, breakerChanges: breakers), gated));
            }
            Approvals.Consume(state.JobId);
            var promoted = Followed(state, JobLifecycleDecider.Apply(next, promotion), policy);
            return (promoted, Gated(DecisionOutcome.Of(new MadeDecision(promotion, signal.CorrelationId), ended: ended, breakerChanges: breakers), gated));
        }
        Gates.Withdraw(state.JobId);
        if (next.AssignedPhase is { } phase)
        {
            Fleet.Withdraw(state.JobId, policy.Name, policy.NextPhase(phase));
        }
        WithdrawAdmission(next, sample.EmittedAt);
        if (decision is null || Gates.WithholdsDemotion(policy, decision.From, decision.DecidedAt))
        {
            return (Followed(state, next, policy), Gated(DecisionOutcome.Of(ended: ended, approvalLapsed: Lapse(next, next, policy, sample.Version)), gated));
        }
        var moved = Followed(state, JobLifecycleDecider.Apply(next, decision), policy);
        var opened = decision.Direction == PhaseDecision.Demote && policy.AdmissionGate(decision.From) is { } admission
            ? CountDemotion(decision, admission, policy)
            : null;
        return (moved, Gated(DecisionOutcome.Of(new MadeDecision(decision, signal.CorrelationId), ended: ended, breakerChanges: opened is null ? null : [opened],
            approvalLapsed: Lapse(moved, next, policy, sample.Version)), gated));
    }

    // A promotion the policy wants still waits while a known issue holds the job, the phase's breaker is open, or its
    // wave has no slot for the job yet; when the job joins its phase's queue, the deferral says why it waits.
    bool Admitted(JobLifecycle job, PhaseDecision promotion, LifecyclePolicy policy, SignalRecorded signal, List<BreakerChange> breakers, out PromotionDeferred? deferral)
    {
        deferral = null;
        var gate = policy.GateFrom(promotion.From)!;
        if (knownIssues.Holding(promotion.JobId, signal.Labels).Any())
        {
            Fleet.Withdraw(promotion.JobId, policy.Name, gate.To);
            WithdrawAdmission(job, promotion.DecidedAt);
            return false;
        }
        var priority = signal.Labels.TryGetValue(policy.PriorityLabel, out var label)
            && int.TryParse(label, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : 0;
        // Owner mode: the wave's slot is the ledger's, and the breaker is open or closed as its recorded changes say.
        var owner = Admissions == AdmissionMode.Owner;
        var owned = owner && gate.Wave is not null;
        if (Fleet.Admit(promotion, owner ? gate with { Wave = null, Breaker = null } : gate, policy, priority, breakers, out var joined))
        {
            return !owned || AdmittedByOwner(job, promotion, gate, gate.Wave!, policy, priority, out deferral);
        }
        if (owner)
        {
            ReportWaiting(promotion, gate, policy);
        }
        if (joined is not null)
        {
            deferral = SignalSamples.ToDeferral(promotion, joined);
        }
        return false;
    }

    (JobLifecycle State, DecisionOutcome Outcome) OnOverride(JobLifecycle state, RecordedEvent recorded, OverrideSet set)
    {
        var @override = OverrideEvents.From(set);
        var policy = state.Policy is { } name ? policies.Named(name) : null;
        var outcome = JobLifecycleDecider.Override(state, @override, policy, recorded.Version);
        if (ReferenceEquals(outcome.State, state) && outcome.Change is null)
        {
            LogOverrideIgnored(state.JobId, set.Kind, set.Phase, state.AssignedPhase, UntrustedText.Escape(set.Actor));
            return (state, DecisionOutcome.None);
        }
        var at = state.LastSignalAt ?? set.SetAt;
        OverrideEnded[]? ended = outcome.Ended is { } replaced
            ? [OverrideEvents.Ended(state.JobId, replaced, @override.Kind == OverrideKind.Release ? OverrideEnded.Released : OverrideEnded.Replaced, at)]
            : null;
        // Actor and reason are an operator's words: escaped, so a newline in them cannot forge a log line.
        LogOverride(state.JobId, set.Kind, UntrustedText.Escape(set.Actor), UntrustedText.Escape(set.Reason, OperatorTextLength), set.ExpiresAt);
        if (outcome.Change is { } change)
        {
            var moved = Followed(state, JobLifecycleDecider.Apply(outcome.State, change), policy);
            Gates.Silence.Changed(moved);
            return (moved, DecisionOutcome.Of(new MadeDecision(change, null), ended: ended, approvalLapsed: Lapse(moved, outcome.State, policy, recorded.Version)));
        }
        Gates.Silence.Changed(outcome.State);
        return (outcome.State, DecisionOutcome.Of(ended: ended, approvalLapsed: Lapse(outcome.State, outcome.State, policy, recorded.Version)));
    }

    // An approval counts only for the request of its gate that waits for one; any other (late, repeated) changes nothing.
    (JobLifecycle State, DecisionOutcome Outcome) OnApproval(JobLifecycle state, ApprovalGranted granted)
    {
        var counted = Approvals.Grant(state.JobId, granted.From, granted.To, ApprovalEvents.Grant(granted));
        LogApproval(state.JobId, granted.From, granted.To, UntrustedText.Escape(granted.Actor), UntrustedText.Escape(granted.Scope, OperatorTextLength),
            UntrustedText.Escape(granted.Reason, OperatorTextLength), counted ? "it permits the job's next move" : "no request of that gate waits for one: it changes nothing");
        return (state, DecisionOutcome.None);
    }

    // A request for approval whose job no longer qualifies lapses, with the gate's values as they stood before the change.
    ApprovalLapsed? Lapse(JobLifecycle job, JobLifecycle evidence, LifecyclePolicy? policy, long version) =>
        Approvals.LapseIf(job) is { } lapse
            ? ApprovalEvents.Lapsed(lapse.Lapsed, lapse.Why, policy is null ? [] : JobLifecycleDecider.Evaluate(evidence, policy).Criteria, job.LastSignalAt ?? lapse.Lapsed.RequestedAt, version)
            : null;

    JobLifecycle Followed(JobLifecycle before, JobLifecycle after, LifecyclePolicy? policy)
    {
        Fleet.Follow(before, after, policy);
        if (Admissions == AdmissionMode.Owner)
        {
            FollowAdmission(before, after, policy);
            ReportMove(before, after);
        }
        return after;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: override {Kind} by {Actor} ({Reason}), until {ExpiresAt}")]
    partial void LogOverride(string jobId, string kind, string actor, string reason, DateTimeOffset? expiresAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: {From} → {To} approved by {Actor} ({Scope}: {Reason}): {Effect}")]
    partial void LogApproval(string jobId, string from, string to, string actor, string scope, string reason, string effect);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Job {JobId}: override {Kind} {Phase} by {Actor} changes nothing (the job is in {AssignedPhase}; its policy has no such phase, or no phase that way)")]
    partial void LogOverrideIgnored(string jobId, string kind, string? phase, string? assignedPhase, string actor);
}
