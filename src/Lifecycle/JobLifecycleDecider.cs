using System.Collections.Immutable;

namespace Streaming.Lifecycle;

/// <summary>
/// The lifecycle as pure functions: <see cref="Evolve"/> records a signal and evaluates the job's gates,
/// <see cref="Decide"/> says whether the job moves, <see cref="Apply"/> records a move. Time is the signals' event time
/// only, so live processing, replay and backtests give the same decisions.
/// </summary>
public static class JobLifecycleDecider
{
    static readonly IReadOnlyDictionary<string, double> NoMetrics = ImmutableDictionary<string, double>.Empty;

    public static JobLifecycle Initial(string jobId) =>
        new(jobId, null, null, null, [], 0, Verdict.NoData, 0, 0, 0, 0, null, null, NoMetrics, 0, false, [], null);

    /// <summary>Records a signal of a job no policy governs: what it reports, nothing evaluated.</summary>
    public static JobLifecycle Record(JobLifecycle state, SignalSample sample) =>
        state with
        {
            LastVersion = sample.Version,
            LastSeq = Math.Max(state.LastSeq, sample.Seq),
            LastSignalAt = Latest(state.LastSignalAt, sample.EmittedAt),
            LastReportedPhase = sample.Phase,
            LatestMetrics = sample.Metrics,
        };

    public static JobLifecycle Evolve(JobLifecycle state, SignalSample sample, LifecyclePolicy policy)
    {
        var now = Latest(state.LastSignalAt, sample.EmittedAt);
        var known = policy.HasPhase(sample.Phase);
        var assigned = state.AssignedPhase is { } current && policy.HasPhase(current) ? current : known ? sample.Phase : policy.FirstPhase;
        var (phaseSince, window) = (state.PhaseSince, state.Window);
        var (promotionVerdict, promotionStreak) = (state.LastPromotionVerdict, state.PromotionStreak);
        var (demotionStreak, demotionStreakFrom) = (state.DemotionStreak, state.DemotionStreakFrom);
        // Only signals that report the assigned phase count towards it; the state is built once, on this hot path.
        if (string.Equals(sample.Phase, assigned, StringComparison.Ordinal))
        {
            phaseSince ??= sample.EmittedAt;
            window = window.Add(new WindowSample(sample.Version, sample.EmittedAt, sample.Metrics), EventTimes.Before(now, policy.LongestWindow));
            if (policy.GateFrom(assigned) is { } gate)
            {
                promotionVerdict = GateEvaluation.Verdict(window, now, gate.Promote);
                promotionStreak = promotionVerdict switch
                {
                    Verdict.Pass => promotionStreak + 1,
                    Verdict.Fail => 0,
                    _ => promotionStreak,
                };
            }
            if (policy.AdmissionGate(assigned) is { Demote: { } demote })
            {
                switch (GateEvaluation.Verdict(window, now, demote))
                {
                    case Verdict.Fail:
                        demotionStreakFrom = demotionStreak == 0 ? sample.Version : demotionStreakFrom;
                        demotionStreak++;
                        break;
                    case Verdict.Pass:
                        (demotionStreak, demotionStreakFrom) = (0, 0);
                        break;
                }
            }
        }
        return state with
        {
            AssignedPhase = assigned,
            AssignedAt = string.Equals(assigned, state.AssignedPhase, StringComparison.Ordinal) ? state.AssignedAt : sample.EmittedAt,
            PhaseSince = phaseSince,
            Window = window,
            PromotionStreak = promotionStreak,
            LastPromotionVerdict = promotionVerdict,
            DemotionStreak = demotionStreak,
            DemotionStreakFrom = demotionStreakFrom,
            LastVersion = sample.Version,
            LastSeq = Math.Max(state.LastSeq, sample.Seq),
            LastSignalAt = now,
            LastReportedPhase = sample.Phase,
            LatestMetrics = sample.Metrics,
            ReportedUnknownPhase = !known,
            Policy = policy.Name,
        };
    }

    public static PhaseDecision? Decide(JobLifecycle state, LifecyclePolicy policy)
    {
        if (state.AssignedPhase is not { } phase
            || state.PhaseSince is not { } acknowledgedAt
            || state.LastSignalAt is not { } now
            || state.Quarantined
            || state.ActiveOverride is not null
            || !string.Equals(state.LastReportedPhase, phase, StringComparison.Ordinal))
        {
            return null;
        }
        if (policy.AdmissionGate(phase) is { Demote: { } demote } admission && state.DemotionStreak >= Math.Max(1, demote.After))
        {
            return Demotion(state, policy, admission, demote, now);
        }
        if (policy.GateFrom(phase) is not { } gate
            || now - acknowledgedAt < gate.Soak
            || state.LastPromotionVerdict != Verdict.Pass
            || state.PromotionStreak < Math.Max(1, gate.Promote.After))
        {
            return null;
        }
        return Promotion(state, policy, gate, now);
    }

    public static JobLifecycle Apply(JobLifecycle state, PhaseDecision decision) =>
        state with
        {
            AssignedPhase = decision.To,
            AssignedAt = decision.DecidedAt,
            PhaseSince = null,
            Window = WindowSamples.Empty,
            PromotionStreak = 0,
            LastPromotionVerdict = Verdict.NoData,
            DemotionStreak = 0,
            DemotionStreakFrom = 0,
            PhaseChanges = state.PhaseChanges + 1,
            RecentChanges = decision.Direction == PhaseDecision.Override ? state.RecentChanges : Remember(state.RecentChanges, decision.DecidedAt),
            QuarantinedAt = decision.Quarantines ? decision.DecidedAt : state.QuarantinedAt,
        };

    /// <summary>Lifts a quarantine: the job is the policy's again, with its count of recent changes started afresh.</summary>
    public static JobLifecycle Release(JobLifecycle state) => state with { QuarantinedAt = null, RecentChanges = [] };

    /// <summary>
    /// Puts an operator's override in force. A hold or pin replaces the one in force (which it ends); a forced move ends
    /// it too; a release ends it and lifts a quarantine. A pin to a phase the job's policy lacks, or a forced move past
    /// the first or last phase, changes nothing. <paramref name="version"/> is the override's place in the job's stream.
    /// </summary>
    public static OverrideOutcome Override(JobLifecycle state, JobOverride @override, LifecyclePolicy? policy, long version)
    {
        var target = @override.Kind switch
        {
            OverrideKind.Pin => @override.Phase is { } phase && (policy is null || policy.HasPhase(phase)) ? phase : null,
            OverrideKind.ForcePromote => state.AssignedPhase is { } from ? policy?.NextPhase(from) : null,
            OverrideKind.ForceDemote => state.AssignedPhase is { } from ? policy?.PreviousPhase(from) : null,
            _ => null,
        };
        if (@override.Kind is OverrideKind.Pin or OverrideKind.ForcePromote or OverrideKind.ForceDemote && target is null)
        {
            return new OverrideOutcome(state, null, null);
        }
        var ended = state.ActiveOverride;
        var next = @override.Kind == OverrideKind.Release
            ? Release(state) with { ActiveOverride = null }
            : state with { ActiveOverride = @override.Lasts ? @override : null };
        var change = target is not null && !string.Equals(target, state.AssignedPhase, StringComparison.Ordinal)
            ? new PhaseDecision(state.JobId, state.AssignedPhase ?? "", target, PhaseDecision.Override, state.LastSignalAt ?? @override.SetAt,
                version, PhaseDecision.OverridePolicy,
                $"{OverrideKinds.Name(@override.Kind)} to {target} by {@override.Actor}: {@override.Reason}", [], version, version, false)
            : null;
        return new OverrideOutcome(next, change, ended);
    }

    /// <summary>Ends the override in force once the job's event time reaches its expiry.</summary>
    public static OverrideOutcome Expire(JobLifecycle state) =>
        state.ActiveOverride is { ExpiresAt: { } until } active && state.LastSignalAt is { } now && now >= until
            ? new OverrideOutcome(state with { ActiveOverride = null }, null, active)
            : new OverrideOutcome(state, null, null);

    public static CriteriaReport Evaluate(JobLifecycle state, LifecyclePolicy policy)
    {
        var now = state.LastSignalAt;
        var timeInPhase = state.PhaseSince is { } since && now is { } at && at > since ? at - since : TimeSpan.Zero;
        var drifted = state.AwaitingAcknowledgement && policy.AcknowledgeWithin is { } within
            && now is { } latest && state.AssignedAt is { } assignedAt && latest - assignedAt > within;
        if (state.AssignedPhase is not { } phase || policy.GateFrom(phase) is not { } gate || now is null)
        {
            return new CriteriaReport(state.AssignedPhase, null, state.AwaitingAcknowledgement, timeInPhase, TimeSpan.Zero, false,
                TimeSpan.Zero, 0, [], Verdict.NoData, state.PromotionStreak, 0, state.DemotionStreak, state.Quarantined, Drifted: drifted);
        }
        var samples = SampleWindow.CountAfter(state.Window, EventTimes.Before(now.Value, gate.Promote.Window));
        var results = GateEvaluation.Results(state.Window, now.Value, gate.Promote);
        var verdict = GateEvaluation.Combine(results);
        var blocking = results.FirstOrDefault(r => !r.Passed);
        var stuck = gate.Soak > TimeSpan.Zero && timeInPhase >= gate.Soak * policy.StuckAfterSoaks && verdict != Verdict.Pass;
        return new CriteriaReport(phase, gate.To, state.AwaitingAcknowledgement, timeInPhase, gate.Soak,
            state.PhaseSince is not null && timeInPhase >= gate.Soak, gate.Promote.Window, samples, results, verdict,
            state.PromotionStreak, Math.Max(1, gate.Promote.After), state.DemotionStreak, state.Quarantined, blocking, stuck, drifted);
    }

    static PhaseDecision Promotion(JobLifecycle state, LifecyclePolicy policy, PhaseGate gate, DateTimeOffset now)
    {
        var results = GateEvaluation.Results(state.Window, now, gate.Promote);
        var since = EventTimes.Before(now, gate.Promote.Window);
        var quarantines = Quarantines(state, policy, now);
        var reason = DecisionReasons.Promotion(gate, now - state.PhaseSince!.Value, state.PromotionStreak,
            SampleWindow.CountAfter(state.Window, since), results, quarantines ? policy.Quarantine : null);
        var (first, last) = SampleWindow.VersionsAfter(state.Window, since);
        return new PhaseDecision(state.JobId, gate.From, gate.To, PhaseDecision.Promote, now, state.LastVersion, policy.Id, reason, results,
            first, last, quarantines);
    }

    static PhaseDecision Demotion(JobLifecycle state, LifecyclePolicy policy, PhaseGate admission, GateRule demote, DateTimeOffset now)
    {
        var results = GateEvaluation.Results(state.Window, now, demote);
        var quarantines = Quarantines(state, policy, now);
        var reason = DecisionReasons.Demotion(admission, state.DemotionStreak, results, quarantines ? policy.Quarantine : null);
        return new PhaseDecision(state.JobId, admission.To, admission.From, PhaseDecision.Demote, now, state.LastVersion, policy.Id, reason, results,
            state.DemotionStreakFrom, state.LastVersion, quarantines);
    }

    // Whether one more change at `now` reaches the policy's limit of changes within its quarantine period.
    static bool Quarantines(JobLifecycle state, LifecyclePolicy policy, DateTimeOffset now)
    {
        if (policy.Quarantine is not { } rule)
        {
            return false;
        }
        var changes = 1;
        foreach (var at in state.RecentChanges)
        {
            if (at > EventTimes.Before(now, rule.Within))
            {
                changes++;
            }
        }
        return changes >= rule.MaxPhaseChanges;
    }

    static ImmutableArray<DateTimeOffset> Remember(ImmutableArray<DateTimeOffset> changes, DateTimeOffset at) =>
        changes.Length < QuarantineRule.MostChanges ? changes.Add(at) : changes.RemoveAt(0).Add(at);

    static DateTimeOffset Latest(DateTimeOffset? held, DateTimeOffset emittedAt) =>
        held is { } latest && latest > emittedAt ? latest : emittedAt;
}
