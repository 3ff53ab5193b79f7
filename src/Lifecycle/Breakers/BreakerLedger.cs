namespace Streaming.Lifecycle.Breakers;

/// <summary>
/// The fleet's circuit breakers in Owner mode (several Promoters), folded from the control partition in log order: the
/// reports of jobs entering and leaving each breaker's phase and of demotions out of it, operators' trips and resets,
/// and the recorded changes. The rule is <see cref="FleetControl"/>'s, over the whole fleet's counts: a demotion opens
/// the breaker when the demotions within <see cref="BreakerRule.Window"/> exceed the share of the jobs the phase held;
/// a job waiting to be promoted into the phase closes it once they no longer do. What it opens or closes is a pure
/// function of the events folded so far (time is theirs), so every Promoter folding the same log makes the same changes,
/// each named by the event that caused it.
/// </summary>
public sealed class BreakerLedger
{
    static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    readonly SortedDictionary<string, BreakerTally> _breakers = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, BreakerTally> Breakers => _breakers;

    /// <summary>The latest event time of the reports folded: the time of an operator's trip.</summary>
    public DateTimeOffset? Clock { get; set; }

    /// <summary>Where in the control partition the ledger stands (commit, global position): what it folded is not folded again.</summary>
    public (long Commit, long GlobalPosition) Through { get; set; }

    /// <summary>
    /// A ledger that starts where one Promoter's own counts stand (<see cref="FleetControl"/> as it saved them): for a fleet
    /// that switches from Local to Owner mode, whose control partition's history holds no reports of the jobs already in
    /// its phases.
    /// </summary>
    public static BreakerLedger From(FleetControl fleet)
    {
        var ledger = new BreakerLedger();
        foreach (var traffic in fleet.Phases.Values)
        {
            if (traffic.Jobs == 0 && traffic.Demotions.Count == 0 && traffic.BreakerOpenSince is null)
            {
                continue;
            }
            var tally = ledger.Tally(traffic.Policy, traffic.Phase);
            tally.Jobs = Math.Max(0, traffic.Jobs);
            tally.Demotions.AddRange(traffic.Demotions);
            tally.OpenSince = tally.RecordedOpenSince = traffic.BreakerOpenSince;
            tally.Tripped = traffic.Tripped;
            tally.Changes = traffic.BreakerChanges;
        }
        return ledger;
    }

    public BreakerTally Tally(string policy, string phase)
    {
        var key = FleetControl.Key(policy, phase);
        if (!_breakers.TryGetValue(key, out var tally))
        {
            tally = new BreakerTally(policy, phase);
            _breakers[key] = tally;
        }
        return tally;
    }

    public void Entered(string policy, string phase, DateTimeOffset at)
    {
        Tick(at);
        Tally(policy, phase).Jobs++;
    }

    public void Left(string policy, string phase, DateTimeOffset at)
    {
        Tick(at);
        var tally = Tally(policy, phase);
        // A job that was in the phase before anyone reported it leaves uncounted.
        tally.Jobs = Math.Max(0, tally.Jobs - 1);
    }

    /// <summary>A demotion out of the phase: it may open the breaker, as the change <paramref name="changeId"/>.</summary>
    public BreakerChange? Demoted(string policy, string phase, DateTimeOffset at, BreakerRule? rule, Guid changeId)
    {
        Tick(at);
        if (rule is null)
        {
            return null;
        }
        var tally = Tally(policy, phase);
        tally.Demotions.Add(at);
        if (tally.OpenSince is not null || !Exceeded(tally, rule, at, out var demotions))
        {
            return null;
        }
        return Change(tally, true, at, demotions, rule, changeId,
            $"{demotions} demotions out of {phase} within {rule.Window.TotalMinutes:0} min, over {rule.MaxDemotionShare:P1} of its {tally.Jobs} jobs");
    }

    /// <summary>A job waits to be promoted into the phase: an open breaker not tripped by hand closes if the demotions have aged.</summary>
    public BreakerChange? Waiting(string policy, string phase, DateTimeOffset at, BreakerRule? rule, Guid changeId)
    {
        Tick(at);
        var tally = Tally(policy, phase);
        if (rule is null || tally.OpenSince is null || tally.Tripped || Exceeded(tally, rule, at, out var demotions))
        {
            return null;
        }
        return Change(tally, false, at, demotions, rule, changeId, "the demotion rate fell back");
    }

    /// <summary>Whether a job waiting at <paramref name="at"/> would close the breaker: for its Promoter, to say so only then.</summary>
    public bool Closes(string policy, string phase, BreakerRule rule, DateTimeOffset at)
    {
        if (!_breakers.TryGetValue(FleetControl.Key(policy, phase), out var tally) || tally.OpenSince is null || tally.Tripped)
        {
            return false;
        }
        var after = EventTimes.Before(at, rule.Window);
        return !rule.Exceeded(tally.Jobs, tally.Demotions.Count(t => t > after));
    }

    /// <summary>An operator opens the breaker by hand: it stays open until one resets it.</summary>
    public BreakerChange? Trip(string policy, string phase, BreakerRule? rule, DateTimeOffset at, string reason, Guid changeId)
    {
        var tally = Tally(policy, phase);
        if (tally.OpenSince is not null && tally.Tripped)
        {
            return null;
        }
        tally.Tripped = true;
        if (tally.OpenSince is not null)
        {
            // Already open on its own: now it also waits for a person.
            return null;
        }
        return Change(tally, true, at, tally.Demotions.Count, rule ?? new BreakerRule(1, Hour, 0), changeId, reason);
    }

    /// <summary>An operator closes the breaker; the demotions counted so far are forgotten.</summary>
    public BreakerChange? Reset(string policy, string phase, BreakerRule? rule, DateTimeOffset at, string reason, Guid changeId)
    {
        var tally = Tally(policy, phase);
        if (tally.OpenSince is null)
        {
            return null;
        }
        tally.Demotions.Clear();
        tally.Tripped = false;
        return Change(tally, false, at, 0, rule ?? new BreakerRule(1, Hour, 0), changeId, reason);
    }

    /// <summary>
    /// A recorded change was read: what every Promoter honours from here. One the ledger did not make (its state lagged the
    /// owner's, or a Promoter recorded it before Owner mode) is taken as the ledger's state, so the ledger goes on from what
    /// the fleet honours.
    /// </summary>
    public void Recorded(Guid changeId, string policy, string phase, bool opened, DateTimeOffset at)
    {
        var tally = Tally(policy, phase);
        tally.RecordedOpenSince = opened ? tally.RecordedOpenSince ?? at : null;
        if (tally.Unread.Remove(changeId))
        {
            return;
        }
        tally.Unread.Clear();
        if (opened)
        {
            tally.OpenSince ??= at;
        }
        else
        {
            tally.OpenSince = null;
            tally.Tripped = false;
        }
    }

    BreakerChange Change(BreakerTally tally, bool opened, DateTimeOffset at, int demotions, BreakerRule rule, Guid changeId, string reason)
    {
        tally.OpenSince = opened ? at : null;
        tally.Changes++;
        tally.Unread.Add(changeId);
        return new BreakerChange(tally.Policy, tally.Phase, opened, tally.Changes, demotions, tally.Jobs, rule.MaxDemotionShare, rule.Window, at, reason);
    }

    static bool Exceeded(BreakerTally tally, BreakerRule rule, DateTimeOffset now, out int demotions)
    {
        var after = EventTimes.Before(now, rule.Window);
        tally.Demotions.RemoveAll(t => t <= after);
        demotions = tally.Demotions.Count;
        return rule.Exceeded(tally.Jobs, demotions);
    }

    void Tick(DateTimeOffset at)
    {
        if (Clock is not { } clock || at > clock)
        {
            Clock = at;
        }
    }
}
