using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.Lifecycle.Admissions;
using Streaming.LifecycleEvents;
using Streaming.Projections.Tail;

namespace Streaming.Promoter.Decisions;

// The engine's part in Owner mode (AdmissionMode.Owner): a job asks for a wave's slot once per wait, is promoted at its
// next signal once the ledger (folded from the admission streams of the control partition) grants it one, and gives
// it back when its soak ends, when it leaves, or when it stops wanting the promotion. The ledger's grants are recorded
// as admission-granted/v1 by the owner of the control partition alone (DecisionFold.OwnsControl).
public sealed partial class DecisionEngine
{
    // Requests and releases this engine recorded and has not read back from the control partition yet: no second one meanwhile.
    readonly Dictionary<string, AdmissionEntry> _asked = new(StringComparer.Ordinal);
    readonly HashSet<Guid> _released = [];
    // What the engine recorded in the control partition (admissions, breaker reports) while applying one event, added to its outcome.
    readonly List<StreamAppend> _controlAppends = [];

    /// <summary>Who decides the waves' slots (<see cref="AdmissionMode.Local"/> unless the host runs several Promoters).</summary>
    public AdmissionMode Admissions { get; set; } = AdmissionMode.Local;

    /// <summary>The waves' slots in <see cref="AdmissionMode.Owner"/> mode, as the admission streams stand.</summary>
    public AdmissionLedger Ledger { get; set; } = new();

    /// <summary>A new run's start: the ledger as saved with the control partition's checkpoint, and nothing asked or released unread.</summary>
    public void ResumeAdmissions(AdmissionLedger ledger)
    {
        Ledger = ledger;
        _asked.Clear();
        _released.Clear();
        _controlAppends.Clear();
    }

    DecisionOutcome? ObserveAdmissions(LogEvent logEvent)
    {
        if (Admissions != AdmissionMode.Owner)
        {
            return null;
        }
        switch (logEvent.Type)
        {
            case AdmissionRequested.EventType:
                var requested = logEvent.Read<AdmissionRequested>();
                if (_asked.TryGetValue(requested.JobId, out var asked) && asked.RequestId == requested.RequestId)
                {
                    _asked.Remove(requested.JobId);
                }
                return GrantsOf(Ledger.Request(new AdmissionEntry(requested.RequestId, requested.JobId, requested.Policy, requested.From, requested.To,
                    requested.Priority, requested.RequestedAt, requested.PhaseChanges), WaveOf));
            case AdmissionReleased.EventType:
                var released = logEvent.Read<AdmissionReleased>();
                _released.Remove(released.RequestId);
                return GrantsOf(Ledger.Release(released.RequestId, released.JobId, released.At, WaveOf));
            case AdmissionGranted.EventType:
                // The ledger granted it when it folded the request or release that freed the slot; the job uses it once the
                // owner has recorded it, so one owner's word is what lets a job in.
                var grant = logEvent.Read<AdmissionGranted>();
                Ledger.Confirm(grant.RequestId, grant.JobId, grant.GrantedAt);
                return DecisionOutcome.None;
            default:
                return null;
        }
    }

    WaveRule? WaveOf(string policy, string phase) => policies.Named(policy)?.AdmissionGate(phase)?.Wave;

    static DecisionOutcome GrantsOf(IReadOnlyList<AdmissionEntry> granted)
    {
        if (granted.Count == 0)
        {
            return DecisionOutcome.None;
        }
        var appends = new List<StreamAppend>(granted.Count);
        foreach (var grant in granted)
        {
            var at = grant.GrantedAt!.Value;
            var recorded = new AdmissionGranted(EventIds.ForAdmissionGrant(grant.RequestId), grant.RequestId, grant.JobId, grant.Policy, grant.From, grant.To, at);
            appends.Add(new StreamAppend(AdmissionRequested.StreamFor(grant.Policy, grant.To),
                ControlEvent(recorded.EventId, AdmissionGranted.EventType, ContractsJson.Serialize(recorded), at)));
        }
        return new DecisionOutcome([], [], [], [], Appends: appends);
    }

    // Owner mode, a promotion through a gate with a wave: promoted only with the ledger's grant for this very wait; else it
    // asks once (with a deferral of cause wave, so it shows as waiting) and waits for the grant.
    bool AdmittedByOwner(JobLifecycle job, PhaseDecision promotion, PhaseGate gate, WaveRule wave, LifecyclePolicy policy, int priority, out PromotionDeferred? deferral)
    {
        deferral = null;
        var wait = new AdmissionEntry(EventIds.ForAdmissionRequest(job.JobId, promotion.DecidingVersion), job.JobId, policy.Name, promotion.From, promotion.To,
            priority, promotion.DecidedAt, job.PhaseChanges);
        var held = Ledger.Of(job.JobId);
        if (held is not null && held.SameWait(wait) && !_released.Contains(held.RequestId))
        {
            if (held.Granted)
            {
                return held.Recorded;
            }
            // Only new grants of the hour free a slot the queue waits for; the queue's head asks again once they have aged.
            if (Ledger.FreesAt(policy.Name, gate.To, wave) is { } frees && frees <= promotion.DecidedAt && Ledger.Slots(policy.Name, gate.To).Ahead(job.JobId) == 0
                && !_asked.ContainsKey(job.JobId))
            {
                Ask(wait, promotion.DecidingVersion);
            }
            return false;
        }
        if (_asked.TryGetValue(job.JobId, out var asked) && asked.SameWait(wait))
        {
            return false;
        }
        if (held is not null)
        {
            Release(held, held.Granted ? AdmissionReleased.Unused : AdmissionReleased.Withdrawn, promotion.DecidedAt);
        }
        Ask(wait, promotion.DecidingVersion);
        var slots = Ledger.Slots(policy.Name, gate.To);
        deferral = SignalSamples.ToDeferral(promotion, new PromotionWait(false, slots.Queue.Count, slots.Granted.Count, wave.MaxInFlight, slots.Grants.Count, wave.MaxPerHour));
        return false;
    }

    void Ask(AdmissionEntry wait, long jobVersion)
    {
        _asked[wait.JobId] = wait;
        var requested = new AdmissionRequested(wait.RequestId, wait.JobId, wait.Policy, wait.From, wait.To, wait.Priority, wait.RequestedAt,
            jobVersion, wait.PhaseChanges);
        _controlAppends.Add(new StreamAppend(AdmissionRequested.StreamFor(wait.Policy, wait.To),
            ControlEvent(requested.RequestId, AdmissionRequested.EventType, ContractsJson.Serialize(requested), wait.RequestedAt)));
    }

    void Release(AdmissionEntry open, string why, DateTimeOffset at)
    {
        if (!_released.Add(open.RequestId))
        {
            return;
        }
        _asked.Remove(open.JobId);
        var released = new AdmissionReleased(EventIds.ForAdmissionRelease(open.RequestId), open.RequestId, open.JobId, open.Policy, open.To, why, at);
        _controlAppends.Add(new StreamAppend(AdmissionRequested.StreamFor(open.Policy, open.To),
            ControlEvent(released.EventId, AdmissionReleased.EventType, ContractsJson.Serialize(released), at)));
    }

    // After every change of a job's state (Owner mode): its open request or slot is given back once it no longer serves.
    void FollowAdmission(JobLifecycle before, JobLifecycle after, LifecyclePolicy? policy)
    {
        var open = Ledger.Of(after.JobId) is { } held && !_released.Contains(held.RequestId) ? held : _asked.GetValueOrDefault(after.JobId);
        if (open is null || _released.Contains(open.RequestId))
        {
            return;
        }
        var at = after.LastSignalAt ?? before.LastSignalAt ?? open.RequestedAt;
        var samePolicy = string.Equals(after.Policy, open.Policy, StringComparison.Ordinal);
        if (samePolicy && after.PhaseChanges == open.PhaseChanges && after.AssignedPhase == open.From)
        {
            return;
        }
        if (samePolicy && open.Granted && after.PhaseChanges == open.PhaseChanges + 1 && after.AssignedPhase == open.To)
        {
            if (policy is not null && SoakedIn(after, policy))
            {
                Release(open, AdmissionReleased.Soaked, at);
            }
            return;
        }
        var why = !open.Granted ? AdmissionReleased.Withdrawn
            : after.PhaseChanges <= open.PhaseChanges || before.AssignedPhase != open.To ? AdmissionReleased.Unused
            : samePolicy && policy is not null && after.AssignedPhase is { } phase && IsBefore(policy, phase, open.To) ? AdmissionReleased.Demoted
            : AdmissionReleased.Left;
        Release(open, why, at);
    }

    // A job that no longer wants the promotion it asked for (or was granted) gives it back.
    void WithdrawAdmission(JobLifecycle job, DateTimeOffset at)
    {
        if (Admissions != AdmissionMode.Owner)
        {
            return;
        }
        var open = Ledger.Of(job.JobId) ?? _asked.GetValueOrDefault(job.JobId);
        if (open is not null && open.PhaseChanges == job.PhaseChanges && open.From == job.AssignedPhase)
        {
            Release(open, open.Granted ? AdmissionReleased.Unused : AdmissionReleased.Withdrawn, at);
        }
    }

    static bool IsBefore(LifecyclePolicy policy, string phase, string other)
    {
        for (var i = 0; i < policy.Phases.Count; i++)
        {
            if (policy.Phases[i] == other)
            {
                return false;
            }
            if (policy.Phases[i] == phase)
            {
                return true;
            }
        }
        return false;
    }

    // As FleetControl counts a job in flight until its soak in the phase ends.
    static bool SoakedIn(JobLifecycle job, LifecyclePolicy policy) =>
        job.PhaseSince is { } since && job.LastSignalAt is { } now
        && (policy.GateFrom(job.AssignedPhase!) is not { } gate || now - since >= gate.Soak);

    DecisionOutcome WithAdmissions(DecisionOutcome outcome)
    {
        if (_controlAppends.Count == 0)
        {
            return outcome;
        }
        var appends = outcome.Appends is { Count: > 0 } given ? [.. given, .. _controlAppends] : _controlAppends.ToList();
        _controlAppends.Clear();
        return outcome with { Appends = appends };
    }

    static EventToAppend ControlEvent(Guid eventId, string type, string data, DateTimeOffset at) =>
        new(eventId, type, data, ContractsJson.Serialize(new EventMetadata(null, null)), at);
}
