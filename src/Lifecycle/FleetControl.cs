namespace Streaming.Lifecycle;

/// <summary>
/// The fleet-wide limits on promotions, kept in log order beside the jobs' own states: how many jobs each phase holds,
/// which were promoted into it and have not soaked yet (waves), how many were promoted or demoted lately, each phase's
/// circuit breaker, and the queue of jobs the policy would promote but that wait for a slot. The queue's order is
/// stable: higher priority label first, then the job that has waited longest, then job id. Time is event time only.
/// </summary>
public sealed class FleetControl
{
    static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    readonly SortedDictionary<string, PhaseTraffic> _phases = new(StringComparer.Ordinal);
    // Each (policy, phase)'s key, made once: a signal that withdraws its job would otherwise concatenate it anew.
    readonly Dictionary<(string Policy, string Phase), string> _keys = [];
    bool _anyInFlight;

    public IReadOnlyDictionary<string, PhaseTraffic> Phases => _phases;

    public static string Key(string policy, string phase) => policy + "/" + phase;

    string KeyOf(string policy, string phase)
    {
        if (!_keys.TryGetValue((policy, phase), out var key))
        {
            key = Key(policy, phase);
            if (_keys.Count < 1_024)
            {
                _keys[(policy, phase)] = key;
            }
        }
        return key;
    }

    /// <summary>Some job is in flight somewhere: until then, following a job that stays in its phase needs no lookup.</summary>
    internal void NoteInFlight() => _anyInFlight = true;

    public PhaseTraffic Traffic(string policy, string phase)
    {
        var key = KeyOf(policy, phase);
        if (!_phases.TryGetValue(key, out var traffic))
        {
            traffic = new PhaseTraffic(policy, phase);
            _phases[key] = traffic;
        }
        return traffic;
    }

    /// <summary>Follows a job from one state to the next: the phase it is counted in, and whether it is still in flight or queued there.</summary>
    public void Follow(JobLifecycle before, JobLifecycle after, LifecyclePolicy? policy)
    {
        var moved = before.Policy != after.Policy || before.AssignedPhase != after.AssignedPhase;
        if (!moved && !_anyInFlight)
        {
            return;
        }
        if (moved && before is { Policy: { } oldPolicy, AssignedPhase: { } oldPhase })
        {
            var left = Traffic(oldPolicy, oldPhase);
            left.Jobs--;
            left.InFlight.Remove(before.JobId);
            Withdraw(before.JobId, oldPolicy, policy?.NextPhase(oldPhase));
        }
        if (after is not { Policy: { } newPolicy, AssignedPhase: { } newPhase })
        {
            return;
        }
        var traffic = Traffic(newPolicy, newPhase);
        if (moved)
        {
            traffic.Jobs++;
        }
        if (traffic.InFlight.ContainsKey(after.JobId) && policy is not null && Soaked(after, policy))
        {
            traffic.InFlight.Remove(after.JobId);
        }
    }

    /// <summary>
    /// Whether the policy's promotion may happen now: not while the phase's breaker is open, and only within its wave,
    /// to the jobs first in line. A job that must wait joins the queue (or keeps its place in it); when it joins,
    /// <paramref name="joined"/> says why it waits. A job not found eligible for a while has left the queue: it joins anew.
    /// </summary>
    public bool Admit(PhaseDecision promotion, PhaseGate gate, LifecyclePolicy policy, int priority, List<BreakerChange> changes, out PromotionWait? joined)
    {
        joined = null;
        var traffic = Traffic(policy.Name, gate.To);
        var now = promotion.DecidedAt;
        if (gate.Breaker is { } breaker && traffic.BreakerOpenSince is not null && !traffic.Tripped
            && !Exceeded(traffic, breaker, now, out var demotions) && Close(traffic, breaker, now, demotions, "the demotion rate fell back") is { } closed)
        {
            changes.Add(closed);
        }
        if (gate.Wave is null && traffic.BreakerOpenSince is null)
        {
            traffic.Queue.Remove(promotion.JobId);
            return true;
        }
        var staleBefore = EventTimes.Before(now, Stale(gate));
        var joins = !traffic.Queue.TryGetValue(promotion.JobId, out var waiting) || waiting.LastEligibleAt <= staleBefore;
        var place = joins ? new QueuedJob(promotion.JobId, priority, now, now) : waiting! with { LastEligibleAt = now };
        traffic.Queue[promotion.JobId] = place;
        if (traffic.BreakerOpenSince is not null)
        {
            joined = joins ? new PromotionWait(true, 0, traffic.InFlight.Count, gate.Wave?.MaxInFlight, traffic.Promotions.Count, gate.Wave?.MaxPerHour) : null;
            return false;
        }
        var free = int.MaxValue;
        if (gate.Wave!.MaxInFlight is { } maxInFlight)
        {
            free = Math.Min(free, maxInFlight - traffic.InFlight.Count);
        }
        if (gate.Wave.MaxPerHour is { } maxPerHour)
        {
            Trim(traffic.Promotions, EventTimes.Before(now, Hour));
            free = Math.Min(free, maxPerHour - traffic.Promotions.Count);
        }
        var ahead = 0;
        List<string>? stale = null;
        foreach (var other in traffic.Queue.Values)
        {
            if (other.JobId == promotion.JobId)
            {
                continue;
            }
            if (other.LastEligibleAt <= staleBefore)
            {
                (stale ??= []).Add(other.JobId);
            }
            else if (QueuedJob.Order.Compare(other, place) < 0)
            {
                ahead++;
            }
        }
        foreach (var jobId in stale ?? [])
        {
            traffic.Queue.Remove(jobId);
        }
        if (ahead >= free)
        {
            joined = joins ? new PromotionWait(false, ahead, traffic.InFlight.Count, gate.Wave.MaxInFlight, traffic.Promotions.Count, gate.Wave.MaxPerHour) : null;
            return false;
        }
        traffic.Queue.Remove(promotion.JobId);
        if (gate.Wave.MaxInFlight is not null)
        {
            traffic.InFlight[promotion.JobId] = now;
            _anyInFlight = true;
        }
        if (gate.Wave.MaxPerHour is not null)
        {
            traffic.Promotions.Enqueue(now);
        }
        return true;
    }

    /// <summary>The job is no longer a candidate for <paramref name="phase"/>: it leaves the queue.</summary>
    public void Withdraw(string jobId, string policy, string? phase)
    {
        if (phase is not null && _phases.TryGetValue(KeyOf(policy, phase), out var traffic))
        {
            traffic.Queue.Remove(jobId);
        }
    }

    /// <summary>Counts a demotion out of the phase the job was admitted to; it may open that phase's breaker.</summary>
    public BreakerChange? Demoted(PhaseDecision demotion, PhaseGate admission, LifecyclePolicy policy)
    {
        if (admission.Breaker is not { } breaker)
        {
            return null;
        }
        var traffic = Traffic(policy.Name, admission.To);
        traffic.Demotions.Enqueue(demotion.DecidedAt);
        if (traffic.BreakerOpenSince is not null || !Exceeded(traffic, breaker, demotion.DecidedAt, out var demotions))
        {
            return null;
        }
        traffic.BreakerOpenSince = demotion.DecidedAt;
        traffic.BreakerChanges++;
        return new BreakerChange(policy.Name, admission.To, true, traffic.BreakerChanges, demotions, traffic.Jobs, breaker.MaxDemotionShare, breaker.Window,
            demotion.DecidedAt, $"{demotions} demotions out of {admission.To} within {breaker.Window.TotalMinutes:0} min, over {breaker.MaxDemotionShare:P1} of its {traffic.Jobs} jobs");
    }

    /// <summary>An operator closes a phase's breaker; the demotions counted so far are forgotten.</summary>
    public BreakerChange? Reset(string policy, string phase, BreakerRule? rule, DateTimeOffset at, string reason)
    {
        var traffic = Traffic(policy, phase);
        if (traffic.BreakerOpenSince is null)
        {
            return null;
        }
        traffic.Demotions.Clear();
        traffic.Tripped = false;
        return Close(traffic, rule ?? new BreakerRule(1, Hour, 0), at, 0, reason);
    }

    /// <summary>An operator opens a phase's breaker by hand: promotions into it pause until one resets it.</summary>
    public BreakerChange? Trip(string policy, string phase, BreakerRule? rule, DateTimeOffset at, string reason)
    {
        var traffic = Traffic(policy, phase);
        if (traffic.BreakerOpenSince is not null && traffic.Tripped)
        {
            return null;
        }
        traffic.Tripped = true;
        if (traffic.BreakerOpenSince is not null)
        {
            // Already open on its own: now it also waits for a person.
            return null;
        }
        traffic.BreakerOpenSince = at;
        traffic.BreakerChanges++;
        var applied = rule ?? new BreakerRule(1, Hour, 0);
        return new BreakerChange(policy, phase, true, traffic.BreakerChanges, traffic.Demotions.Count, traffic.Jobs, applied.MaxDemotionShare, applied.Window, at, reason);
    }

    static BreakerChange? Close(PhaseTraffic traffic, BreakerRule rule, DateTimeOffset at, int demotions, string reason)
    {
        traffic.BreakerOpenSince = null;
        traffic.BreakerChanges++;
        return new BreakerChange(traffic.Policy, traffic.Phase, false, traffic.BreakerChanges, demotions, traffic.Jobs, rule.MaxDemotionShare, rule.Window, at, reason);
    }

    static bool Exceeded(PhaseTraffic traffic, BreakerRule rule, DateTimeOffset now, out int demotions)
    {
        Trim(traffic.Demotions, EventTimes.Before(now, rule.Window));
        demotions = traffic.Demotions.Count;
        return rule.Exceeded(traffic.Jobs, demotions);
    }

    // A queued job that has not been eligible for this long has stopped signalling or passing: it leaves the queue and no
    // longer holds others back.
    static TimeSpan Stale(PhaseGate gate) => gate.Promote.Window > TimeSpan.FromMinutes(15) ? gate.Promote.Window : TimeSpan.FromMinutes(15);

    static bool Soaked(JobLifecycle job, LifecyclePolicy policy) =>
        job.PhaseSince is { } since && job.LastSignalAt is { } now
        && (policy.GateFrom(job.AssignedPhase!) is not { } gate || now - since >= gate.Soak);

    static void Trim(Queue<DateTimeOffset> times, DateTimeOffset after)
    {
        while (times.Count > 0 && times.Peek() <= after)
        {
            times.Dequeue();
        }
    }
}
