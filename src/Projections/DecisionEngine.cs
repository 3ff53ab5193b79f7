using System.Globalization;
using Microsoft.Extensions.Logging;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Lifecycle;

namespace Streaming.Projections;

/// <summary>
/// The Promoter's decisions as a fold over the log, with no I/O: each job's policy run over its signals, operators'
/// overrides carried out, and the fleet's waves, queues, circuit breakers and known issues applied, all in log order.
/// What it decides collects in <see cref="Decisions"/>, <see cref="Deferrals"/>, <see cref="EndedOverrides"/> and
/// <see cref="BreakerChanges"/> for the caller to record. The live Promoter and backtests run the same engine, so they decide the same.
/// </summary>
public sealed partial class DecisionEngine(ActivePolicies policies, KnownIssues knownIssues, ILogger logger)
{
    public ActivePolicies Policies => policies;

    public KnownIssues KnownIssues => knownIssues;

    public FleetControl Fleet { get; set; } = new();

    public List<(PhaseDecision Decision, string? CorrelationId)> Decisions { get; } = [];

    /// <summary>Promotions the policy wants that joined their phase's queue, each with why it waits.</summary>
    public List<PromotionDeferred> Deferrals { get; } = [];

    public List<OverrideEnded> EndedOverrides { get; } = [];

    public List<BreakerChange> BreakerChanges { get; } = [];

    public bool HasPending => Decisions.Count > 0 || Deferrals.Count > 0 || EndedOverrides.Count > 0 || BreakerChanges.Count > 0;

    public void ClearPending()
    {
        Decisions.Clear();
        Deferrals.Clear();
        EndedOverrides.Clear();
        BreakerChanges.Clear();
    }

    /// <summary>An event of a control stream: a policy version, a known issue, an operator's breaker reset.</summary>
    public void Observe(RecordedEvent recorded)
    {
        policies.Observe(recorded);
        knownIssues.Observe(recorded);
        if (recorded.Type == CircuitBreakerResetRequested.EventType)
        {
            var reset = ContractsJson.Deserialize<CircuitBreakerResetRequested>(recorded.Data);
            var rule = policies.Named(reset.Policy)?.AdmissionGate(reset.Phase)?.Breaker;
            if (Fleet.Reset(reset.Policy, reset.Phase, rule, reset.At, $"reset by {reset.Actor}: {reset.Reason}") is { } closed)
            {
                BreakerChanges.Add(closed);
            }
        }
    }

    /// <summary>An event of a job's stream.</summary>
    public JobLifecycle Apply(JobLifecycle state, RecordedEvent recorded) => recorded.Type switch
    {
        SignalRecorded.EventType => OnSignal(state, recorded, ContractsJson.Deserialize<SignalRecorded>(recorded.Data)),
        OverrideSet.EventType => OnOverride(state, recorded, ContractsJson.Deserialize<OverrideSet>(recorded.Data)),
        // Phase changes and ended overrides in a job's stream are the engine's own, applied when they were made.
        _ => state,
    };

    /// <summary>A job's signal, already read from its event (a backtest reads each once for several engines).</summary>
    public JobLifecycle ApplySignal(JobLifecycle state, RecordedEvent recorded, SignalRecorded signal) => OnSignal(state, recorded, signal);

    JobLifecycle OnSignal(JobLifecycle state, RecordedEvent recorded, SignalRecorded signal)
    {
        var sample = SignalSamples.From(recorded, signal);
        if (policies.For(signal.Labels) is not { } policy)
        {
            return Followed(state, JobLifecycleDecider.Record(state, sample), null);
        }
        var next = JobLifecycleDecider.Evolve(state, sample, policy);
        var expiry = JobLifecycleDecider.Expire(next);
        if (expiry.Ended is { } expired)
        {
            EndedOverrides.Add(OverrideEvents.Ended(state.JobId, expired, OverrideEnded.Expired, sample.EmittedAt));
            next = expiry.State;
        }
        var decision = JobLifecycleDecider.Decide(next, policy);
        if (decision is { Direction: PhaseDecision.Promote } promotion && !Admitted(promotion, policy, signal))
        {
            return Followed(state, next, policy);
        }
        if (decision is not { Direction: PhaseDecision.Promote } && next.AssignedPhase is { } phase)
        {
            Fleet.Withdraw(state.JobId, policy.Name, policy.NextPhase(phase));
        }
        if (decision is null)
        {
            return Followed(state, next, policy);
        }
        Decisions.Add((decision, signal.CorrelationId));
        var moved = Followed(state, JobLifecycleDecider.Apply(next, decision), policy);
        if (decision.Direction == PhaseDecision.Demote && policy.AdmissionGate(decision.From) is { } admission
            && Fleet.Demoted(decision, admission, policy) is { } opened)
        {
            BreakerChanges.Add(opened);
        }
        return moved;
    }

    // A promotion the policy wants still waits while a known issue holds the job, the phase's breaker is open, or its
    // wave has no slot for the job yet.
    bool Admitted(PhaseDecision promotion, LifecyclePolicy policy, SignalRecorded signal)
    {
        var gate = policy.GateFrom(promotion.From)!;
        if (knownIssues.Holding(promotion.JobId, signal.Labels).Any())
        {
            Fleet.Withdraw(promotion.JobId, policy.Name, gate.To);
            return false;
        }
        var priority = signal.Labels.TryGetValue(policy.PriorityLabel, out var label)
            && int.TryParse(label, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : 0;
        if (Fleet.Admit(promotion, gate, policy, priority, BreakerChanges, out var joined))
        {
            return true;
        }
        if (joined is not null)
        {
            Deferrals.Add(SignalSamples.ToDeferral(promotion, joined));
        }
        return false;
    }

    JobLifecycle OnOverride(JobLifecycle state, RecordedEvent recorded, OverrideSet set)
    {
        var @override = OverrideEvents.From(set);
        var policy = state.Policy is { } name ? policies.Named(name) : null;
        var outcome = JobLifecycleDecider.Override(state, @override, policy, recorded.Version);
        if (ReferenceEquals(outcome.State, state) && outcome.Change is null)
        {
            LogOverrideIgnored(state.JobId, set.Kind, set.Phase, state.AssignedPhase, set.Actor);
            return state;
        }
        var at = state.LastSignalAt ?? set.SetAt;
        if (outcome.Ended is { } ended)
        {
            EndedOverrides.Add(OverrideEvents.Ended(state.JobId, ended, @override.Kind == OverrideKind.Release ? OverrideEnded.Released : OverrideEnded.Replaced, at));
        }
        LogOverride(state.JobId, set.Kind, set.Actor, set.Reason, set.ExpiresAt);
        if (outcome.Change is { } change)
        {
            Decisions.Add((change, null));
            return Followed(state, JobLifecycleDecider.Apply(outcome.State, change), policy);
        }
        return outcome.State;
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
