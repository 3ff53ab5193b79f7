using System.Collections.Immutable;

namespace Streaming.Lifecycle;

/// <summary>
/// The lifecycle as pure functions: <see cref="Evolve"/> records a signal, <see cref="Decide"/> says whether the job
/// moves, <see cref="Apply"/> records a move. Time is the signals' event time only, so live processing, replay and
/// backtests give the same decisions.
/// </summary>
public static class JobLifecycleDecider
{
    static readonly IReadOnlyDictionary<string, double> NoMetrics = ImmutableDictionary<string, double>.Empty;

    public static JobLifecycle Initial(string jobId) =>
        new(jobId, null, null, null, [], 0, 0, 0, 0, null, null, NoMetrics, 0, false);

    public static JobLifecycle Evolve(JobLifecycle state, SignalSample sample, LifecyclePolicy policy)
    {
        var now = state.LastSignalAt is { } latest && latest > sample.EmittedAt ? latest : sample.EmittedAt;
        var known = policy.HasPhase(sample.Phase);
        var assigned = state.AssignedPhase ?? (known ? sample.Phase : policy.FirstPhase);
        var phaseSince = state.PhaseSince;
        var window = state.Window;
        var breaches = state.ConsecutiveBreaches;
        var firstBreach = state.FirstBreachVersion;
        if (string.Equals(sample.Phase, assigned, StringComparison.Ordinal))
        {
            phaseSince ??= sample.EmittedAt;
            window = SampleWindow.Add(window, new WindowSample(sample.Version, sample.EmittedAt, sample.Metrics), now - policy.LongestWindow);
            if (policy.AdmissionGate(assigned) is { DemoteOnBreach: true } admission)
            {
                if (Breaks(admission, sample.Metrics))
                {
                    firstBreach = breaches == 0 ? sample.Version : firstBreach;
                    breaches++;
                }
                else
                {
                    breaches = 0;
                    firstBreach = 0;
                }
            }
        }
        return state with
        {
            AssignedPhase = assigned,
            AssignedAt = state.AssignedAt ?? sample.EmittedAt,
            PhaseSince = phaseSince,
            Window = window,
            ConsecutiveBreaches = breaches,
            FirstBreachVersion = firstBreach,
            LastVersion = sample.Version,
            LastSeq = Math.Max(state.LastSeq, sample.Seq),
            LastSignalAt = now,
            LastReportedPhase = sample.Phase,
            LatestMetrics = sample.Metrics,
            ReportedUnknownPhase = !known,
        };
    }

    public static PhaseDecision? Decide(JobLifecycle state, LifecyclePolicy policy)
    {
        if (state.AssignedPhase is not { } phase
            || state.PhaseSince is not { } acknowledgedAt
            || state.LastSignalAt is not { } now
            || !string.Equals(state.LastReportedPhase, phase, StringComparison.Ordinal))
        {
            return null;
        }
        if (state.ConsecutiveBreaches > 0
            && state.ConsecutiveBreaches >= policy.DemoteAfterConsecutiveBreaches
            && policy.AdmissionGate(phase) is { DemoteOnBreach: true } admission)
        {
            return Demotion(state, policy, admission, now);
        }
        if (policy.GateFrom(phase) is not { } gate || now - acknowledgedAt < gate.MinTimeInPhase)
        {
            return null;
        }
        var since = now - gate.Window;
        if (SampleWindow.CountAfter(state.Window, since) < gate.MinSamples)
        {
            return null;
        }
        for (var i = 0; i < gate.Criteria.Count; i++)
        {
            var criterion = gate.Criteria[i];
            if (!WindowAggregate.Passes(WindowAggregate.Compute(state.Window, since, criterion), gate.MinSamples, criterion))
            {
                return null;
            }
        }
        return Promotion(state, policy, gate, now);
    }

    public static JobLifecycle Apply(JobLifecycle state, PhaseDecision decision) =>
        state with
        {
            AssignedPhase = decision.To,
            AssignedAt = decision.DecidedAt,
            PhaseSince = null,
            Window = [],
            ConsecutiveBreaches = 0,
            FirstBreachVersion = 0,
            PhaseChanges = state.PhaseChanges + 1,
        };

    public static CriteriaReport Evaluate(JobLifecycle state, LifecyclePolicy policy)
    {
        var now = state.LastSignalAt;
        var timeInPhase = state.PhaseSince is { } since && now is { } at && at > since ? at - since : TimeSpan.Zero;
        if (state.AssignedPhase is not { } phase || policy.GateFrom(phase) is not { } gate || now is null)
        {
            return new CriteriaReport(state.AssignedPhase, null, state.AwaitingAcknowledgement, timeInPhase, TimeSpan.Zero, false,
                TimeSpan.Zero, 0, 0, [], false, state.ConsecutiveBreaches);
        }
        var windowStart = now.Value - gate.Window;
        var samples = SampleWindow.CountAfter(state.Window, windowStart);
        var results = Results(state.Window, windowStart, gate);
        var allPassed = samples >= gate.MinSamples;
        foreach (var result in results)
        {
            allPassed &= result.Passed;
        }
        return new CriteriaReport(phase, gate.To, state.AwaitingAcknowledgement, timeInPhase, gate.MinTimeInPhase,
            state.PhaseSince is not null && timeInPhase >= gate.MinTimeInPhase, gate.Window, samples, gate.MinSamples, results, allPassed,
            state.ConsecutiveBreaches);
    }

    static CriterionResult[] Results(ImmutableArray<WindowSample> window, DateTimeOffset since, PhaseGate gate)
    {
        var results = new CriterionResult[gate.Criteria.Count];
        for (var i = 0; i < results.Length; i++)
        {
            var criterion = gate.Criteria[i];
            var computed = WindowAggregate.Compute(window, since, criterion);
            results[i] = new CriterionResult(criterion.Metric, criterion.Aggregation, criterion.Comparison, criterion.Threshold,
                computed.Value, computed.Samples, WindowAggregate.Passes(computed, gate.MinSamples, criterion));
        }
        return results;
    }

    static PhaseDecision Promotion(JobLifecycle state, LifecyclePolicy policy, PhaseGate gate, DateTimeOffset now)
    {
        var since = now - gate.Window;
        var results = Results(state.Window, since, gate);
        var reason = DecisionReasons.Promotion(gate, now - state.PhaseSince!.Value, SampleWindow.CountAfter(state.Window, since), results);
        var (first, last) = SampleWindow.VersionsAfter(state.Window, since);
        return new PhaseDecision(state.JobId, gate.From, gate.To, PhaseDecision.Promote, now, state.LastVersion, policy.Id, reason, results, first, last);
    }

    // Judged on the latest signal alone: the one that made the breaches enough.
    static PhaseDecision Demotion(JobLifecycle state, LifecyclePolicy policy, PhaseGate admission, DateTimeOffset now)
    {
        var results = new CriterionResult[admission.Criteria.Count];
        for (var i = 0; i < results.Length; i++)
        {
            var criterion = admission.Criteria[i];
            results[i] = state.LatestMetrics.TryGetValue(criterion.Metric, out var value)
                ? new CriterionResult(criterion.Metric, criterion.Aggregation, criterion.Comparison, criterion.Threshold, value, 1, criterion.Holds(value))
                : new CriterionResult(criterion.Metric, criterion.Aggregation, criterion.Comparison, criterion.Threshold, null, 0, true);
        }
        var reason = DecisionReasons.Demotion(admission, state.ConsecutiveBreaches, results);
        return new PhaseDecision(state.JobId, admission.To, admission.From, PhaseDecision.Demote, now, state.LastVersion, policy.Id, reason, results,
            state.FirstBreachVersion, state.LastVersion);
    }

    // A single signal breaks a gate when one of its values fails a criterion; a metric it does not report breaks nothing.
    static bool Breaks(PhaseGate gate, IReadOnlyDictionary<string, double> metrics)
    {
        for (var i = 0; i < gate.Criteria.Count; i++)
        {
            var criterion = gate.Criteria[i];
            if (metrics.TryGetValue(criterion.Metric, out var value) && !criterion.Holds(value))
            {
                return true;
            }
        }
        return false;
    }
}
