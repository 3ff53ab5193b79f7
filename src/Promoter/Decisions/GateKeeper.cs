using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.LifecycleEvents;

namespace Streaming.Promoter.Decisions;

/// <summary>
/// The gates around the policies' criteria, in event time and log order: silent jobs (<see cref="Silence"/>), operators'
/// pauses (<see cref="Pauses"/>) and policies' promotion windows. It says whether a promotion the policy wants waits (and
/// records why, once per wait), whether a demotion is withheld, and which jobs turned silent as the watermark moved.
/// A silent job's demotion is decided when the watermark passes its deadline, without a signal of its own; it reaches
/// the job's state at the job's next event (<see cref="TakePending"/>), so the decision and the state agree in live
/// folds, rebuilds and backtests alike.
/// </summary>
public sealed class GateKeeper
{
    /// <summary>The actor of what the Promoter records by itself (a pause that reached its end).</summary>
    public const string PromoterActor = "promoter";

    readonly Dictionary<string, PhaseDecision> _pending = new(StringComparer.Ordinal);
    readonly Dictionary<string, string> _waitingFor = new(StringComparer.Ordinal);

    public SilenceWatch Silence { get; } = new();

    public FleetPauses Pauses { get; } = new();

    /// <summary>Silent jobs' demotions decided but not yet applied to their states.</summary>
    public IReadOnlyDictionary<string, PhaseDecision> Pending => _pending;

    /// <summary>Jobs whose promotion waits for a pause, a window or their silence, with the cause recorded for the wait.</summary>
    public IReadOnlyDictionary<string, string> WaitingFor => _waitingFor;

    public PhaseDecision? TakePending(string jobId) => _pending.Remove(jobId, out var decision) ? decision : null;

    /// <summary>
    /// Whether a promotion must wait: the job is silent, a pause covers the gate, or the policy's windows are closed at
    /// its event time. A wait is recorded (<paramref name="deferral"/>) when it begins or its cause changes.
    /// </summary>
    public bool Holds(PhaseDecision promotion, LifecyclePolicy policy, out PromotionDeferred? deferral)
    {
        deferral = null;
        var (cause, reason) = Silence.IsSilent(promotion.JobId)
            ? (PromotionDeferred.Silent, $"the job is silent: its last signal is more than {Describe(policy.Gating.Silence?.After)} older than the fleet's latest")
            : Pauses.Covering(policy.Name, promotion.To) is { } pause
                ? (PromotionDeferred.Paused, $"promotions into {promotion.To} are paused ({pause.Scope}) by {pause.Actor}: {pause.Reason}{(pause.Until is { } until ? $", until {until:u}" : "")}")
                : !policy.Gating.InWindow(promotion.DecidedAt)
                    ? (PromotionDeferred.Window, $"outside the promotion windows of {policy.Name} ({string.Join("; ", policy.Gating.Windows.Select(w => w.Describe()))})")
                    : ((string?)null, "");
        if (cause is null)
        {
            _waitingFor.Remove(promotion.JobId);
            return false;
        }
        if (!_waitingFor.TryGetValue(promotion.JobId, out var held) || held != cause)
        {
            _waitingFor[promotion.JobId] = cause;
            deferral = SignalSamples.ToDeferral(promotion, new PromotionWait(false, 0, 0, null, 0, null)) with { Cause = cause, Reason = reason };
        }
        return true;
    }

    /// <summary>The job no longer waits to be promoted (it was, or the policy stopped wanting it).</summary>
    public void Withdraw(string jobId) => _waitingFor.Remove(jobId);

    /// <summary>Whether a demotion out of <paramref name="phase"/> is withheld: a pause covers it and the policy pauses demotions too, or the windows are closed and it says so.</summary>
    public bool WithholdsDemotion(LifecyclePolicy policy, string phase, DateTimeOffset at) =>
        policy.Gating.PauseDemotions && Pauses.Covering(policy.Name, phase) is not null
        || !policy.Gating.WindowDemotions && !policy.Gating.InWindow(at);

    /// <summary>
    /// After a job's signal: the watermark moves, the job's silence is followed, and whatever the new watermark passed
    /// is decided: jobs that turned silent (each recorded, and demoted once if its policy says so) and pauses that ended.
    /// </summary>
    public void Signalled(JobLifecycle state, LifecyclePolicy? policy, DateTimeOffset emittedAt, Func<string, LifecyclePolicy?> named,
        List<StreamAppend> appends, List<PhaseDecision> demotions)
    {
        Silence.Advance(emittedAt);
        var late = Silence.Follow(state, policy);
        var watermark = Silence.Watermark!.Value;
        foreach (var entry in Silence.TurnedSilent())
        {
            Silenced(entry, watermark, named(entry.Policy), appends, demotions);
        }
        if (late is not null)
        {
            // Its own signal is older than the watermark allows: silent as of now, but never demoted for it.
            appends.Add(SilencedEvent(late, watermark));
        }
        foreach (var pause in Pauses.Expire(watermark))
        {
            var resumed = new PromotionsResumed(pause.Id, pause.Policy, pause.Phase, PromoterActor, $"the pause by {pause.Actor} reached its end", watermark, Expired: true);
            appends.Add(new StreamAppend(PromotionsPaused.StreamFor(pause.Policy, pause.Phase),
                Event(EventIds.ForPauseExpiry(pause.Id), PromotionsResumed.EventType, ContractsJson.Serialize(resumed), watermark)));
        }
    }

    void Silenced(SilenceEntry entry, DateTimeOffset watermark, LifecyclePolicy? policy, List<StreamAppend> appends, List<PhaseDecision> demotions)
    {
        appends.Add(SilencedEvent(entry, watermark));
        // Only a job that acknowledged its phase is demoted: one moved and silent since is drifted, which the
        // acknowledgement rule reports; and its last signal then decided that move, whose id a demotion must not take.
        if (entry.Rule.Action != SilenceAction.Demote || !entry.Acknowledged || !entry.Movable || policy is null
            || policy.PreviousPhase(entry.Phase) is not { } previous || WithholdsDemotion(policy, entry.Phase, watermark))
        {
            return;
        }
        var demotion = new PhaseDecision(entry.JobId, entry.Phase, previous, PhaseDecision.Demote, watermark, entry.LastVersion, policy.Id,
            $"silent: no signal since {entry.LastSignalAt:u}, more than {Describe(entry.Rule.After)} before the fleet's latest ({watermark:u})",
            [], entry.LastVersion, entry.LastVersion, false);
        _pending[entry.JobId] = demotion;
        demotions.Add(demotion);
    }

    static StreamAppend SilencedEvent(SilenceEntry entry, DateTimeOffset watermark)
    {
        var silenced = new JobSilenced(EventIds.ForSilence(entry.JobId, entry.LastVersion), entry.JobId, entry.Policy, entry.Phase, entry.LastSignalAt,
            watermark, entry.Rule.After, entry.Rule.Action == SilenceAction.Demote ? "demote" : "hold");
        return new StreamAppend(entry.JobId, Event(silenced.EventId, JobSilenced.EventType, ContractsJson.Serialize(silenced), watermark));
    }

    static EventToAppend Event(Guid eventId, string type, string data, DateTimeOffset at) =>
        new(eventId, type, data, ContractsJson.Serialize(new EventMetadata(null, null)), at);

    static string Describe(TimeSpan? span) => span is not { } s ? "its silence" : s.TotalHours >= 1 && s.TotalHours == Math.Floor(s.TotalHours) ? $"{s.TotalHours:0}h" : $"{s.TotalMinutes:0.#} min";

    /// <summary>Restores what a resumed fold kept.</summary>
    public void Restore(IEnumerable<PhaseDecision> pending, IEnumerable<KeyValuePair<string, string>> waitingFor)
    {
        foreach (var decision in pending)
        {
            _pending[decision.JobId] = decision;
        }
        foreach (var (jobId, cause) in waitingFor)
        {
            _waitingFor[jobId] = cause;
        }
    }
}
