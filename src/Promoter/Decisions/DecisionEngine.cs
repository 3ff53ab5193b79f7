using System.Globalization;
using Microsoft.Extensions.Logging;
using Streaming.Contracts.History;
using Streaming.Contracts.Text;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.LifecycleEvents;
using Streaming.Projections;
using Streaming.Projections.Tail;

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

    public ActivePolicies Policies => policies;

    public KnownIssues KnownIssues => knownIssues;

    public FleetControl Fleet { get; set; } = new();

    /// <summary>An event of a control stream: a policy version, a known issue, an operator's breaker reset.</summary>
    public DecisionOutcome Observe(LogEvent logEvent)
    {
        policies.Observe(logEvent);
        knownIssues.Observe(logEvent);
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
    public (JobLifecycle State, DecisionOutcome Outcome) Apply(JobLifecycle state, LogEvent logEvent) => logEvent.Type switch
    {
        SignalRecorded.EventType => ApplySignal(state, logEvent.Event, logEvent.Read<SignalRecorded>()),
        OverrideSet.EventType => OnOverride(state, logEvent.Event, logEvent.Read<OverrideSet>()),
        // Phase changes and ended overrides in a job's stream are the engine's own, applied when they were made.
        _ => (state, DecisionOutcome.None),
    };

    /// <summary>A job's signal, possibly not as recorded (a backtest's candidate reads it in the phase it assigned).</summary>
    public (JobLifecycle State, DecisionOutcome Outcome) ApplySignal(JobLifecycle state, RecordedEvent recorded, SignalRecorded signal)
    {
        var sample = SignalSamples.From(recorded, signal);
        if (policies.For(signal.Labels) is not { } policy)
        {
            return (Followed(state, JobLifecycleDecider.Record(state, sample), null), DecisionOutcome.None);
        }
        var next = JobLifecycleDecider.Evolve(state, sample, policy);
        List<OverrideEnded>? ended = null;
        var expiry = JobLifecycleDecider.Expire(next);
        if (expiry.Ended is { } expired)
        {
            ended = [OverrideEvents.Ended(state.JobId, expired, OverrideEnded.Expired, sample.EmittedAt)];
            next = expiry.State;
        }
        var decision = JobLifecycleDecider.Decide(next, policy);
        if (decision is { Direction: PhaseDecision.Promote } promotion)
        {
            var breakers = new List<BreakerChange>(0);
            if (!Admitted(promotion, policy, signal, breakers, out var deferral))
            {
                return (Followed(state, next, policy), DecisionOutcome.Of(deferral: deferral, ended: ended, breakerChanges: breakers));
            }
            var promoted = Followed(state, JobLifecycleDecider.Apply(next, promotion), policy);
            return (promoted, DecisionOutcome.Of(new MadeDecision(promotion, signal.CorrelationId), ended: ended, breakerChanges: breakers));
        }
        if (next.AssignedPhase is { } phase)
        {
            Fleet.Withdraw(state.JobId, policy.Name, policy.NextPhase(phase));
        }
        if (decision is null)
        {
            return (Followed(state, next, policy), DecisionOutcome.Of(ended: ended));
        }
        var moved = Followed(state, JobLifecycleDecider.Apply(next, decision), policy);
        var opened = decision.Direction == PhaseDecision.Demote && policy.AdmissionGate(decision.From) is { } admission
            ? Fleet.Demoted(decision, admission, policy)
            : null;
        return (moved, DecisionOutcome.Of(new MadeDecision(decision, signal.CorrelationId), ended: ended, breakerChanges: opened is null ? null : [opened]));
    }

    // A promotion the policy wants still waits while a known issue holds the job, the phase's breaker is open, or its
    // wave has no slot for the job yet; when the job joins its phase's queue, the deferral says why it waits.
    bool Admitted(PhaseDecision promotion, LifecyclePolicy policy, SignalRecorded signal, List<BreakerChange> breakers, out PromotionDeferred? deferral)
    {
        deferral = null;
        var gate = policy.GateFrom(promotion.From)!;
        if (knownIssues.Holding(promotion.JobId, signal.Labels).Any())
        {
            Fleet.Withdraw(promotion.JobId, policy.Name, gate.To);
            return false;
        }
        var priority = signal.Labels.TryGetValue(policy.PriorityLabel, out var label)
            && int.TryParse(label, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : 0;
        if (Fleet.Admit(promotion, gate, policy, priority, breakers, out var joined))
        {
            return true;
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
            return (Followed(state, JobLifecycleDecider.Apply(outcome.State, change), policy), DecisionOutcome.Of(new MadeDecision(change, null), ended: ended));
        }
        return (outcome.State, DecisionOutcome.Of(ended: ended));
    }

    JobLifecycle Followed(JobLifecycle before, JobLifecycle after, LifecyclePolicy? policy)
    {
        Fleet.Follow(before, after, policy);
        return after;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: override {Kind} by {Actor} ({Reason}), until {ExpiresAt}")]
    partial void LogOverride(string jobId, string kind, string actor, string reason, DateTimeOffset? expiresAt);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Job {JobId}: override {Kind} {Phase} by {Actor} changes nothing (the job is in {AssignedPhase}; its policy has no such phase, or no phase that way)")]
    partial void LogOverrideIgnored(string jobId, string kind, string? phase, string? assignedPhase, string actor);
}
