using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace Streaming.Lifecycle;

/// <summary>
/// The lifecycle as pure functions: <see cref="Evolve"/> records a signal, <see cref="Decide"/> says whether the job
/// moves, <see cref="Apply"/> records a move. Time is the signals' event time only, so live processing, replay and
/// backtests give the same decisions.
/// </summary>
public static class JobLifecycleDecider
{
    static readonly IReadOnlyDictionary<string, double> NoMetrics = new Dictionary<string, double>();

    public static JobLifecycle Initial(string jobId) =>
        new(jobId, null, null, null, [], 0, 0, 0, 0, null, null, NoMetrics, 0, false);

    public static JobLifecycle Evolve(JobLifecycle state, SignalSample sample, LifecyclePolicy policy)
    {
        var latest = state.LastSignalAt is { } seen && seen > sample.EmittedAt ? seen : sample.EmittedAt;
        var next = state with
        {
            LastVersion = sample.Version,
            LastSeq = Math.Max(state.LastSeq, sample.Seq),
            LastSignalAt = latest,
            LastReportedPhase = sample.Phase,
            LatestMetrics = sample.Metrics,
        };
        if (next.AssignedPhase is null)
        {
            var known = policy.HasPhase(sample.Phase);
            next = next with
            {
                AssignedPhase = known ? sample.Phase : policy.FirstPhase,
                AssignedAt = sample.EmittedAt,
                ReportedUnknownPhase = !known,
            };
        }
        if (sample.Phase != next.AssignedPhase)
        {
            return next;
        }
        next = next with
        {
            PhaseSince = next.PhaseSince ?? sample.EmittedAt,
            Window = AddToWindow(next.Window, new WindowSample(sample.Version, sample.EmittedAt, sample.Metrics), latest - policy.LongestWindow),
        };
        var admission = policy.AdmissionGate(next.AssignedPhase);
        if (admission is not { DemoteOnBreach: true })
        {
            return next;
        }
        return Breaks(admission, sample.Metrics)
            ? next with
            {
                ConsecutiveBreaches = next.ConsecutiveBreaches + 1,
                FirstBreachVersion = next.ConsecutiveBreaches == 0 ? sample.Version : next.FirstBreachVersion,
            }
            : next with { ConsecutiveBreaches = 0, FirstBreachVersion = 0 };
    }

    public static PhaseDecision? Decide(JobLifecycle state, LifecyclePolicy policy)
    {
        if (state.AssignedPhase is not { } phase || state.PhaseSince is null || state.LastReportedPhase != phase || state.LastSignalAt is not { } now)
        {
            return null;
        }
        var admission = policy.AdmissionGate(phase);
        if (admission is { DemoteOnBreach: true } && state.ConsecutiveBreaches >= policy.DemoteAfterConsecutiveBreaches)
        {
            return Demotion(state, policy, admission, now);
        }
        if (policy.GateFrom(phase) is not { } gate)
        {
            return null;
        }
        var report = Evaluate(state, gate, now);
        return report.SoakMet && report.AllPassed ? Promotion(state, policy, gate, report, now) : null;
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
        var gate = state.AssignedPhase is { } phase ? policy.GateFrom(phase) : null;
        if (gate is null || state.LastSignalAt is not { } now)
        {
            return new CriteriaReport(state.AssignedPhase, null, state.AwaitingAcknowledgement, TimeInPhase(state, state.LastSignalAt),
                TimeSpan.Zero, false, 0, 0, [], false, state.ConsecutiveBreaches);
        }
        return Evaluate(state, gate, now);
    }

    static CriteriaReport Evaluate(JobLifecycle state, PhaseGate gate, DateTimeOffset now)
    {
        var since = now - gate.Window;
        var results = new CriterionResult[gate.Criteria.Count];
        var allPassed = gate.Criteria.Count > 0;
        for (var i = 0; i < results.Length; i++)
        {
            var criterion = gate.Criteria[i];
            var (value, samples) = WindowAggregate.Compute(state.Window, since, criterion);
            var passed = value is { } v && samples >= gate.MinSamples && criterion.Holds(v);
            results[i] = new CriterionResult(criterion.Metric, criterion.Aggregation, criterion.Comparison, criterion.Threshold, value, samples, passed);
            allPassed &= passed;
        }
        var inWindow = 0;
        foreach (var sample in state.Window)
        {
            if (sample.EmittedAt > since)
            {
                inWindow++;
            }
        }
        var timeInPhase = TimeInPhase(state, now);
        return new CriteriaReport(state.AssignedPhase, gate.To, state.AwaitingAcknowledgement, timeInPhase, gate.MinTimeInPhase,
            state.PhaseSince is not null && timeInPhase >= gate.MinTimeInPhase, inWindow, gate.MinSamples, results, allPassed, state.ConsecutiveBreaches);
    }

    static PhaseDecision Promotion(JobLifecycle state, LifecyclePolicy policy, PhaseGate gate, CriteriaReport report, DateTimeOffset now)
    {
        var reason = new StringBuilder().Append(CultureInfo.InvariantCulture, $"promote {gate.From}→{gate.To}: {Minutes(report.TimeInPhase)} in phase ≥ {Minutes(gate.MinTimeInPhase)}");
        foreach (var result in report.Criteria)
        {
            var criterion = gate.Criteria.First(c => c.Metric == result.Metric && c.Aggregation == result.Aggregation);
            reason.Append(CultureInfo.InvariantCulture,
                $"; {Name(result.Aggregation)} {result.Metric} {Number(result.Value!.Value)} {criterion.Symbol} {Number(result.Threshold)} ({result.Samples} samples over {Minutes(gate.Window)})");
        }
        var since = now - gate.Window;
        var used = state.Window.Where(s => s.EmittedAt > since).ToList();
        return new PhaseDecision(state.JobId, gate.From, gate.To, "promote", now, state.LastVersion, policy.Id, reason.ToString(), report.Criteria,
            used.Min(s => s.Version), used.Max(s => s.Version));
    }

    static PhaseDecision Demotion(JobLifecycle state, LifecyclePolicy policy, PhaseGate admission, DateTimeOffset now)
    {
        var results = admission.Criteria
            .Select(c => state.LatestMetrics.TryGetValue(c.Metric, out var v)
                ? new CriterionResult(c.Metric, c.Aggregation, c.Comparison, c.Threshold, v, 1, c.Holds(v))
                : new CriterionResult(c.Metric, c.Aggregation, c.Comparison, c.Threshold, null, 0, true))
            .ToList();
        var broken = string.Join("; ", results.Where(r => !r.Passed).Select(r =>
        {
            var criterion = admission.Criteria.First(c => c.Metric == r.Metric && c.Aggregation == r.Aggregation);
            return $"{r.Metric} {Number(r.Value!.Value)} {criterion.BrokenSymbol} {Number(r.Threshold)}";
        }));
        var reason = string.Create(CultureInfo.InvariantCulture,
            $"demote {admission.To}→{admission.From}: {state.ConsecutiveBreaches} consecutive signals broke the criteria that admitted the job to {admission.To}; last: {broken}");
        return new PhaseDecision(state.JobId, admission.To, admission.From, "demote", now, state.LastVersion, policy.Id, reason, results,
            state.FirstBreachVersion, state.LastVersion);
    }

    static bool Breaks(PhaseGate gate, IReadOnlyDictionary<string, double> metrics)
    {
        foreach (var criterion in gate.Criteria)
        {
            if (metrics.TryGetValue(criterion.Metric, out var value) && !criterion.Holds(value))
            {
                return true;
            }
        }
        return false;
    }

    static ImmutableArray<WindowSample> AddToWindow(ImmutableArray<WindowSample> window, WindowSample sample, DateTimeOffset keepAfter)
    {
        var builder = ImmutableArray.CreateBuilder<WindowSample>(window.Length + 1);
        var inserted = false;
        foreach (var kept in window)
        {
            if (!inserted && sample.EmittedAt < kept.EmittedAt)
            {
                builder.Add(sample);
                inserted = true;
            }
            if (kept.EmittedAt > keepAfter)
            {
                builder.Add(kept);
            }
        }
        if (!inserted && sample.EmittedAt > keepAfter)
        {
            builder.Add(sample);
        }
        return builder.DrainToImmutable();
    }

    static TimeSpan TimeInPhase(JobLifecycle state, DateTimeOffset? now) =>
        state.PhaseSince is { } since && now is { } at && at > since ? at - since : TimeSpan.Zero;

    static string Minutes(TimeSpan span) => span.TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture) + "m";

    static string Number(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);

    static string Name(Aggregation aggregation) => aggregation.ToString().ToLowerInvariant();
}
