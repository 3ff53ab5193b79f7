using Microsoft.Extensions.Logging;
using Streaming.Contracts.History;
using Streaming.Lifecycle;
using Streaming.LifecycleEvents;
using Streaming.Projections;
using Streaming.Projections.Tail;
using Streaming.Promoter.Decisions;

namespace Streaming.Promoter.Backtesting;

/// <summary>
/// Replays recorded history, in log order and in one pass, twice: through the policies as they were published (the
/// baseline) and through a candidate that replaces the policy of its name from the start. Both run the Promoter's own
/// <see cref="DecisionEngine"/>, with overrides, known issues, waves and breakers as recorded, so the result is
/// deterministic. The candidate side assumes a job follows each of its decisions at once: its recorded signals are read
/// as reporting the phase the candidate assigned, with the metrics they carried. Operators' pauses and breaker trips
/// (control streams) and the policies' promotion windows are honoured in their place in the log, with the watermark, as
/// the Promoter honoured them; with <c>withoutPauses</c> the candidate side is replayed as if nobody had paused. A history
/// recorded by several Promoters (Owner mode: admission streams in the log, <see cref="BacktestReplay.AdmissionModeAsync"/>)
/// is replayed on the baseline side in Owner mode, honouring the recorded grants and breaker changes in their place; the
/// grants and breaker changes its own fold of the recorded requests, releases and breaker reports makes are compared with
/// the recorded ones. The candidate side decides waves and breakers as one Promoter would (Local mode).
/// </summary>
public sealed class Backtest
{
    static readonly TimeSpan FlapWithin = TimeSpan.FromDays(1);

    readonly DecisionReplay _baseline;
    readonly DecisionReplay _candidate;
    readonly Func<string, IReadOnlyDictionary<string, string>, bool> _selects;
    readonly HashSet<string> _excluded = new(StringComparer.Ordinal);
    readonly Dictionary<string, DateTimeOffset> _firstSignal = new(StringComparer.Ordinal);
    readonly List<PhaseDecision> _recorded = [];
    readonly List<PromotionDeferred> _recordedDeferrals = [];
    readonly HashSet<Guid> _recordedGrants = [];
    readonly HashSet<Guid> _recordedBreakerChanges = [];
    readonly LifecyclePolicy _candidatePolicy;
    readonly bool _withoutPauses;
    long _events;

    /// <param name="withoutPauses">The candidate side skips operators' pauses and resumptions: what would have happened had nobody paused.</param>
    /// <param name="recordedAdmissions">How the history's waves were decided: <see cref="AdmissionMode.Owner"/> for a history of several Promoters.</param>
    public Backtest(LifecyclePolicy candidate, Func<string, IReadOnlyDictionary<string, string>, bool>? selects, ILogger logger, bool withoutPauses = false,
        AdmissionMode recordedAdmissions = AdmissionMode.Local)
    {
        _candidatePolicy = candidate;
        _withoutPauses = withoutPauses;
        _selects = selects ?? ((_, _) => true);
        _baseline = new DecisionReplay(new DecisionEngine(new ActivePolicies(logger), new KnownIssues(), logger) { Admissions = recordedAdmissions });
        var policies = new ActivePolicies(logger);
        policies.Substitute(candidate);
        _candidate = new DecisionReplay(new DecisionEngine(policies, new KnownIssues(), logger));
    }

    /// <summary>
    /// A batch of the log, in log order, each event decoded once: each is looked at once, then each side folds the batch
    /// in log order on its own state.
    /// </summary>
    public void Apply(IReadOnlyList<LogEvent> batch)
    {
        var steps = new Step[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            steps[i] = Read(batch[i]);
        }
        _events += batch.Count;
        // One side after the other: folding them on two threads was slower here (two cores, allocation-heavy folds).
        Fold(_baseline, steps, followDecisions: false, skipPauses: false);
        Fold(_candidate, steps, followDecisions: true, skipPauses: _withoutPauses);
    }

    Step Read(LogEvent logEvent)
    {
        var streamId = logEvent.StreamId;
        if (ControlStreams.IsControl(streamId))
        {
            if (logEvent.Type == AdmissionGranted.EventType)
            {
                _recordedGrants.Add(logEvent.Event.EventId);
            }
            else if (logEvent.Type == CircuitBreakerChanged.EventType)
            {
                _recordedBreakerChanges.Add(logEvent.Event.EventId);
            }
            return new Step(logEvent, null, Replayed: true);
        }
        if (_excluded.Contains(streamId))
        {
            return new Step(logEvent, null, Replayed: false);
        }
        switch (logEvent.Type)
        {
            // A signal that cannot be read is replayed as it is, so each side skips it for its job as the Promoter did.
            case SignalRecorded.EventType when logEvent.Signal is { } signal:
                if (!_firstSignal.ContainsKey(streamId))
                {
                    if (!_selects(streamId, signal.Labels))
                    {
                        _excluded.Add(streamId);
                        return new Step(logEvent, null, Replayed: false);
                    }
                    _firstSignal[streamId] = signal.EmittedAt;
                }
                return new Step(logEvent, signal, Replayed: true);
            case PhaseChanged.EventType when logEvent.Body is PhaseChanged change:
                _recorded.Add(SignalSamples.ToDecision(change));
                return new Step(logEvent, null, Replayed: false);
            // The Promoter's own record of a wait; replayed as the live fold meets it (a silent job's pending demotion lands on it).
            case PromotionDeferred.EventType when logEvent.Body is PromotionDeferred deferral:
                _recordedDeferrals.Add(deferral);
                return new Step(logEvent, null, Replayed: true);
            default:
                return new Step(logEvent, null, Replayed: true);
        }
    }

    // With followDecisions, a job is taken to report the phase this side assigned it, whatever its signal said.
    static void Fold(DecisionReplay replay, Step[] steps, bool followDecisions, bool skipPauses)
    {
        foreach (var step in steps)
        {
            if (!step.Replayed || skipPauses && step.Event.Type is PromotionsPaused.EventType or PromotionsResumed.EventType)
            {
                continue;
            }
            if (step.Signal is not { } signal)
            {
                replay.Apply(step.Event);
                continue;
            }
            var assigned = followDecisions ? replay.StateOf(step.Event.StreamId).AssignedPhase : null;
            replay.ApplySignal(step.Event, assigned is null || assigned == signal.Phase ? signal : signal with { Phase = assigned });
        }
    }

    readonly record struct Step(LogEvent Event, SignalRecorded? Signal, bool Replayed);

    public BacktestReport Report(bool perJob)
    {
        var recorded = Exact(_recorded.Where(d => _firstSignal.ContainsKey(d.JobId)));
        var baseline = Exact(_baseline.Decisions);
        var mismatches = recorded.Except(baseline).Count() + baseline.Except(recorded).Count();
        var recordedHolds = Exact(_recordedDeferrals.Where(d => _firstSignal.ContainsKey(d.JobId)));
        var baselineHolds = Exact(_baseline.Deferrals);
        var holdMismatches = recordedHolds.Except(baselineHolds).Count() + baselineHolds.Except(recordedHolds).Count();
        var before = Moves(_baseline.Decisions);
        var after = Moves(_candidate.Decisions);
        var owner = _baseline.Engine.Admissions == AdmissionMode.Owner;
        var differing = _firstSignal.Keys
            .Where(job => !Timeline(before, job).SequenceEqual(Timeline(after, job)))
            .Order(StringComparer.Ordinal)
            .ToList();
        return new BacktestReport(
            _candidatePolicy.Name,
            _events,
            _firstSignal.Count,
            recorded.Count,
            mismatches == 0,
            mismatches,
            Side(_baseline),
            Side(_candidate),
            Unmatched(after, before),
            Unmatched(before, after),
            differing.Count,
            perJob ? [.. differing.Select(job => new JobDifference(job, Timeline(before, job), Timeline(after, job)))] : [])
        {
            RecordedDeferrals = recordedHolds.Count,
            BaselineReproducesDeferrals = holdMismatches == 0,
            DeferralMismatches = holdMismatches,
            RecordedGrants = _recordedGrants.Count,
            GrantMismatches = OwnersMismatches(AdmissionGranted.EventType, _recordedGrants),
            RecordedBreakerChanges = owner ? _recordedBreakerChanges.Count : 0,
            BreakerChangeMismatches = owner ? OwnersMismatches(CircuitBreakerChanged.EventType, _recordedBreakerChanges) : 0,
        };
    }

    // What the owner recorded (grants, or breaker changes) recomputed by the baseline's fold of the recorded reports,
    // against the recorded ones (by event id).
    int OwnersMismatches(string type, HashSet<Guid> recorded)
    {
        HashSet<Guid> replayed = [.. _baseline.Appends.Where(a => a.Event.Type == type).Select(a => a.Event.EventId)];
        return replayed.Count(id => !recorded.Contains(id)) + recorded.Count(id => !replayed.Contains(id));
    }

    /// <summary>Every promotion each side held back (a pause, a window, a silence, a wave or a breaker), once per wait, in log order.</summary>
    public IEnumerable<(string Side, PromotionDeferred Deferral)> AllDeferrals() =>
        _baseline.Deferrals.Select(d => ("baseline", d)).Concat(_candidate.Deferrals.Select(d => ("candidate", d)));

    /// <summary>Every decision of both sides, with whether both made it, for CSV output.</summary>
    public IEnumerable<(string Side, PhaseDecision Decision)> AllDecisions() =>
        _baseline.Decisions.Select(d => ("baseline", d)).Concat(_candidate.Decisions.Select(d => ("candidate", d)));

    BacktestSide Side(DecisionReplay replay)
    {
        var decisions = replay.Decisions;
        var flaps = 0;
        foreach (var job in decisions.GroupBy(d => d.JobId))
        {
            var moves = job.ToList();
            for (var i = 1; i < moves.Count; i++)
            {
                if (moves[i].To == moves[i - 1].From && moves[i].DecidedAt - moves[i - 1].DecidedAt <= FlapWithin)
                {
                    flaps++;
                }
            }
        }
        var stuck = 0;
        foreach (var job in _firstSignal.Keys)
        {
            var state = replay.StateOf(job);
            if (state.Policy is { } name && replay.Engine.Policies.Named(name) is { } policy && JobLifecycleDecider.Evaluate(state, policy).Stuck)
            {
                stuck++;
            }
        }
        var timings = decisions
            .Where(d => d.Direction is PhaseDecision.Promote or PhaseDecision.Override)
            .GroupBy(d => d.To)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(phase =>
            {
                var hours = phase.GroupBy(d => d.JobId)
                    .Select(job => (job.Min(d => d.DecidedAt) - _firstSignal[job.Key]).TotalHours)
                    .Order()
                    .ToList();
                return new PhaseTiming(phase.Key, hours.Count, Percentile(hours, 50), Percentile(hours, 95));
            })
            .ToList();
        return new BacktestSide(
            decisions.Count(d => d.Direction == PhaseDecision.Promote),
            decisions.Count(d => d.Direction == PhaseDecision.Demote),
            decisions.Count(d => d.Direction == PhaseDecision.Override),
            flaps,
            stuck,
            timings,
            replay.Poisoned.Count)
        {
            Held = replay.Deferrals.GroupBy(d => d.Cause, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
        };
    }

    static double Percentile(List<double> sorted, int percent) =>
        sorted.Count == 0 ? 0 : Math.Round(sorted[Math.Clamp((percent * sorted.Count + 99) / 100, 1, sorted.Count) - 1], 3);

    static Dictionary<string, List<PhaseDecision>> Moves(IEnumerable<PhaseDecision> decisions) =>
        decisions.GroupBy(d => d.JobId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);

    static List<string> Timeline(Dictionary<string, List<PhaseDecision>> moves, string job) =>
        moves.TryGetValue(job, out var decisions) ? [.. decisions.Select(d => $"{d.From}→{d.To}@{d.DecidedAt:yyyy-MM-ddTHH:mm:ssZ}")] : [];

    // Moves of one side the other side never made (job, from, to and direction; each repeat counted), whenever they happened.
    static int Unmatched(Dictionary<string, List<PhaseDecision>> side, Dictionary<string, List<PhaseDecision>> other)
    {
        var unmatched = 0;
        foreach (var (job, decisions) in side)
        {
            var available = (other.GetValueOrDefault(job) ?? []).GroupBy(d => (d.From, d.To, d.Direction)).ToDictionary(g => g.Key, g => g.Count());
            foreach (var decision in decisions)
            {
                var key = (decision.From, decision.To, decision.Direction);
                if (available.GetValueOrDefault(key) > 0)
                {
                    available[key]--;
                }
                else
                {
                    unmatched++;
                }
            }
        }
        return unmatched;
    }

    static HashSet<string> Exact(IEnumerable<PhaseDecision> decisions) =>
        [.. decisions.Select(d => $"{d.JobId}|{d.From}|{d.To}|{d.Direction}|{d.DecidedAt.UtcTicks}|{d.DecidingVersion}|{d.Policy}")];

    static HashSet<string> Exact(IEnumerable<PromotionDeferred> deferrals) =>
        [.. deferrals.Select(d => $"{d.JobId}|{d.From}|{d.To}|{d.Cause}|{d.DecidedAt.UtcTicks}|{d.DecidingVersion}|{d.Policy}|{d.Reason}")];
}
