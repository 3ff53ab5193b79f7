namespace Streaming.Lifecycle;

/// <summary>
/// The fleet's event-time watermark and the jobs that may go silent. The watermark is the latest event time of any
/// signal folded so far: a pure function of the log's order, so live folds, rebuilds and backtests agree on it. A job
/// is silent once its last signal is older than the watermark minus its policy's silence; the jobs are kept in a queue
/// by that deadline, so each advance of the watermark looks only at the jobs it passes, not at the whole fleet.
/// </summary>
public sealed class SilenceWatch
{
    readonly Dictionary<string, SilenceEntry> _entries = new(StringComparer.Ordinal);
    readonly PriorityQueue<string, (DateTimeOffset Deadline, string JobId)> _due = new(DeadlineOrder.Instance);
    // Jobs with an entry in _due. One per job: a later signal leaves it in place, and when its (earlier) deadline comes
    // it is queued again at the job's current one, so the queue stays as long as the fleet, however often jobs signal.
    readonly HashSet<string> _queued = new(StringComparer.Ordinal);

    // Jobs whose entry changed since the last save (kept, replaced or forgotten).
    readonly HashSet<string> _dirty = new(StringComparer.Ordinal);

    public DateTimeOffset? Watermark { get; private set; }

    public IReadOnlyDictionary<string, SilenceEntry> Entries => _entries;

    public int SilentCount { get; private set; }

    public bool IsSilent(string jobId) => _entries.TryGetValue(jobId, out var entry) && entry.Silent;

    /// <summary>Moves the watermark to <paramref name="at"/> if that is later; it never moves back.</summary>
    public void Advance(DateTimeOffset at)
    {
        if (Watermark is not { } current || at > current)
        {
            Watermark = at;
        }
    }

    /// <summary>
    /// Follows a job after its signal: a fresh deadline (which clears its silence), or nothing kept when its policy has
    /// no silence rule. Returns the entry if the job is silent even so (its latest signal is older than the watermark allows).
    /// </summary>
    public SilenceEntry? Follow(JobLifecycle state, LifecyclePolicy? policy)
    {
        if (policy?.Gating.Silence is not { } rule || state is not { AssignedPhase: { } phase, LastSignalAt: { } last })
        {
            Forget(state.JobId);
            return null;
        }
        var entry = new SilenceEntry(state.JobId, policy.Name, phase, state.PhaseSince is not null,
            state.ActiveOverride is null && !state.Quarantined, last, state.LastVersion, rule);
        _dirty.Add(state.JobId);
        if (_entries.TryGetValue(state.JobId, out var held) && held.Silent)
        {
            SilentCount--;
        }
        if (Watermark is { } watermark && entry.Deadline < watermark)
        {
            entry = entry with { Silent = true };
            SilentCount++;
            _entries[state.JobId] = entry;
            return entry;
        }
        _entries[state.JobId] = entry;
        Queue(entry);
        return null;
    }

    /// <summary>Something other than a signal changed the job (an override, a move): its entry follows its state.</summary>
    public void Changed(JobLifecycle state)
    {
        if (_entries.TryGetValue(state.JobId, out var entry) && state.AssignedPhase is { } phase)
        {
            _entries[state.JobId] = entry with
            {
                Phase = phase,
                Acknowledged = state.PhaseSince is not null,
                Movable = state.ActiveOverride is null && !state.Quarantined,
            };
            _dirty.Add(state.JobId);
        }
    }

    public void Forget(string jobId)
    {
        if (_entries.Remove(jobId, out var entry))
        {
            _dirty.Add(jobId);
            if (entry.Silent)
            {
                SilentCount--;
            }
        }
    }

    /// <summary>The entries changed since the last call (null: forgotten), for saving.</summary>
    public List<(string JobId, SilenceEntry? Entry)> TakeChanged()
    {
        var changed = _dirty.Select(id => (id, _entries.GetValueOrDefault(id))).ToList();
        _dirty.Clear();
        return changed;
    }

    /// <summary>The jobs the watermark has passed since the last call, now silent, in deadline order (then job id).</summary>
    public IReadOnlyList<SilenceEntry> TurnedSilent()
    {
        // Most signals pass no deadline: nothing is allocated for them.
        List<SilenceEntry>? silenced = null;
        if (Watermark is not { } watermark)
        {
            return [];
        }
        while (_due.TryPeek(out var jobId, out var due) && due.Deadline < watermark)
        {
            _due.Dequeue();
            _queued.Remove(jobId);
            if (!_entries.TryGetValue(jobId, out var entry) || entry.Silent)
            {
                continue;
            }
            if (entry.Deadline >= watermark)
            {
                // Signalled since it was queued: it waits for its current deadline.
                Queue(entry);
            }
            else
            {
                entry = entry with { Silent = true };
                _entries[jobId] = entry;
                _dirty.Add(jobId);
                SilentCount++;
                (silenced ??= []).Add(entry);
            }
        }
        return silenced is null ? [] : silenced;
    }

    /// <summary>Restores a kept entry (a resumed fold): silent ones as they were, others queued by their deadline.</summary>
    public void Restore(SilenceEntry entry)
    {
        if (_entries.Remove(entry.JobId, out var held) && held.Silent)
        {
            SilentCount--;
        }
        _entries[entry.JobId] = entry;
        if (entry.Silent)
        {
            SilentCount++;
        }
        else
        {
            Queue(entry);
        }
    }

    void Queue(SilenceEntry entry)
    {
        if (_queued.Add(entry.JobId))
        {
            _due.Enqueue(entry.JobId, (entry.Deadline, entry.JobId));
        }
    }

    /// <summary>Restores the watermark of a resumed fold.</summary>
    public void Restore(DateTimeOffset? watermark) => Watermark = watermark;

    sealed class DeadlineOrder : IComparer<(DateTimeOffset Deadline, string JobId)>
    {
        public static readonly DeadlineOrder Instance = new();

        public int Compare((DateTimeOffset Deadline, string JobId) x, (DateTimeOffset Deadline, string JobId) y)
        {
            var byTime = x.Deadline.CompareTo(y.Deadline);
            return byTime != 0 ? byTime : string.CompareOrdinal(x.JobId, y.JobId);
        }
    }
}
