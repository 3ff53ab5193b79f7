namespace Streaming.Lifecycle.Admissions;

/// <summary>
/// The fleet's wave slots in Owner mode (several Promoters), folded from the admission streams of the control partition
/// in log order: each job's open request (one at a time), each gate's queue, the slots granted and not released, and
/// the grants of the last hour. A request or a release may let the queue's head in at once; what it grants is a pure
/// function of the events folded so far (time is theirs), so every Promoter folding the same log grants the same slots.
/// The rules are <see cref="FleetControl"/>'s: priority label, then the longest wait, then job id; at most
/// <see cref="WaveRule.MaxInFlight"/> slots granted and not released, at most <see cref="WaveRule.MaxPerHour"/> grants in
/// any hour of event time.
/// </summary>
public sealed class AdmissionLedger
{
    static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    readonly Dictionary<string, AdmissionEntry> _jobs = new(StringComparer.Ordinal);
    readonly SortedDictionary<string, WaveSlots> _gates = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, WaveSlots> Gates => _gates;

    /// <summary>The job's open request, granted or not, or null.</summary>
    public AdmissionEntry? Of(string jobId) => _jobs.GetValueOrDefault(jobId);

    public WaveSlots Slots(string policy, string phase)
    {
        var key = FleetControl.Key(policy, phase);
        if (!_gates.TryGetValue(key, out var slots))
        {
            slots = new WaveSlots(policy, phase);
            _gates[key] = slots;
        }
        return slots;
    }

    /// <summary>
    /// A job asks for a slot: it joins its gate's queue, and what it lets in is returned. Another request of the same wait
    /// (a copy, or a job nudging the queue once an hour's grants have aged) only lets in what its event time allows; a
    /// request of an older wait than the job's open one changes nothing; one of a newer wait replaces the open one.
    /// </summary>
    public IReadOnlyList<AdmissionEntry> Request(AdmissionEntry request, Func<string, string, WaveRule?> rules)
    {
        List<AdmissionEntry> granted = [];
        if (_jobs.TryGetValue(request.JobId, out var open))
        {
            if (open.SameWait(request) || open.PhaseChanges > request.PhaseChanges)
            {
                Fill(Slots(open.Policy, open.To), rules(open.Policy, open.To), request.RequestedAt, granted);
                return granted;
            }
            Remove(open);
            Fill(Slots(open.Policy, open.To), rules(open.Policy, open.To), request.RequestedAt, granted);
        }
        var entry = request with { GrantedAt = null };
        _jobs[entry.JobId] = entry;
        var slots = Slots(entry.Policy, entry.To);
        slots.Queue.Add(entry);
        Fill(slots, rules(entry.Policy, entry.To), entry.RequestedAt, granted);
        return granted;
    }

    /// <summary>A job gives back its request or its slot: the slot goes to the queue's head at once, if the wave allows.</summary>
    public IReadOnlyList<AdmissionEntry> Release(Guid requestId, string jobId, DateTimeOffset at, Func<string, string, WaveRule?> rules)
    {
        if (!_jobs.TryGetValue(jobId, out var open) || open.RequestId != requestId)
        {
            return [];
        }
        Remove(open);
        List<AdmissionEntry> granted = [];
        Fill(Slots(open.Policy, open.To), rules(open.Policy, open.To), at, granted);
        return granted;
    }

    /// <summary>
    /// The owner recorded its grant of <paramref name="requestId"/>: the job may use it. A recorded grant this fold had not
    /// made (its state lagged the owner's, e.g. loaded from a row saved past the checkpoint it resumed from) is taken as
    /// made then, so every slot a job may use is counted by every fold that read it.
    /// </summary>
    public bool Confirm(Guid requestId, string jobId, DateTimeOffset grantedAt)
    {
        if (!_jobs.TryGetValue(jobId, out var open) || open.RequestId != requestId || open.Recorded)
        {
            return false;
        }
        var slots = Slots(open.Policy, open.To);
        if (!open.Granted)
        {
            slots.Queue.Remove(open);
            slots.Grants.Enqueue(grantedAt);
        }
        var confirmed = open with { GrantedAt = open.GrantedAt ?? grantedAt, Recorded = true };
        _jobs[jobId] = confirmed;
        slots.Granted[jobId] = confirmed;
        return true;
    }

    /// <summary>When the hour's grants of the gate will have aged enough for one more, if that is what holds its queue back.</summary>
    public DateTimeOffset? FreesAt(string policy, string phase, WaveRule? rule)
    {
        if (rule?.MaxPerHour is not { } maxPerHour || !_gates.TryGetValue(FleetControl.Key(policy, phase), out var slots) || slots.Grants.Count < maxPerHour)
        {
            return null;
        }
        return slots.Grants.ElementAt(slots.Grants.Count - maxPerHour) + Hour;
    }

    void Remove(AdmissionEntry open)
    {
        _jobs.Remove(open.JobId);
        var slots = Slots(open.Policy, open.To);
        if (open.Granted)
        {
            slots.Granted.Remove(open.JobId);
        }
        else
        {
            slots.Queue.Remove(open);
        }
    }

    void Fill(WaveSlots slots, WaveRule? rule, DateTimeOffset now, List<AdmissionEntry> granted)
    {
        while (slots.Grants.Count > 0 && slots.Grants.Peek() <= EventTimes.Before(now, Hour))
        {
            slots.Grants.Dequeue();
        }
        while (slots.Queue.Count > 0
               && (rule?.MaxInFlight is not { } maxInFlight || slots.Granted.Count < maxInFlight)
               && (rule?.MaxPerHour is not { } maxPerHour || slots.Grants.Count < maxPerHour))
        {
            var head = slots.Queue.Min!;
            slots.Queue.Remove(head);
            var grant = head with { GrantedAt = now };
            slots.Granted[grant.JobId] = grant;
            _jobs[grant.JobId] = grant;
            slots.Grants.Enqueue(now);
            granted.Add(grant);
        }
    }

    /// <summary>Puts an entry back as saved (<see cref="AdmissionLedgerSnapshot"/>).</summary>
    internal void Restore(AdmissionEntry entry)
    {
        _jobs[entry.JobId] = entry;
        var slots = Slots(entry.Policy, entry.To);
        if (entry.Granted)
        {
            slots.Granted[entry.JobId] = entry;
        }
        else
        {
            slots.Queue.Add(entry);
        }
    }

    internal IEnumerable<AdmissionEntry> Entries => _jobs.Values;
}
