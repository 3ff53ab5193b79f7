namespace Streaming.Lifecycle;

/// <summary>
/// The operators' pauses in force, one per scope. A pause given a duration ends when the fleet's event-time watermark
/// reaches its end: the duration counts from the watermark where the pause stands in the log (or from the operator's
/// clock if no signal came yet), so live folds, rebuilds and backtests end it at the same point of the log.
/// </summary>
public sealed class FleetPauses
{
    readonly SortedDictionary<string, Pause> _pauses = new(StringComparer.Ordinal);

    public IReadOnlyCollection<Pause> InForce => _pauses.Values;

    public Pause Start(Guid id, string? policy, string? phase, string actor, string reason, DateTimeOffset at, TimeSpan? lasting, DateTimeOffset? watermark)
    {
        var pause = new Pause(id, policy, phase, actor, reason, at, lasting is { } duration ? EventTimes.After(watermark ?? at, duration) : null);
        _pauses[PauseScopes.Key(policy, phase)] = pause;
        return pause;
    }

    /// <summary>Ends the pause of a scope (only the one with <paramref name="id"/> when given); null if none was in force.</summary>
    public Pause? End(string? policy, string? phase, Guid? id)
    {
        var key = PauseScopes.Key(policy, phase);
        if (!_pauses.TryGetValue(key, out var pause) || id is { } only && pause.Id != only)
        {
            return null;
        }
        _pauses.Remove(key);
        return pause;
    }

    /// <summary>The pauses whose end the watermark has reached, ended, in scope order.</summary>
    public IReadOnlyList<Pause> Expire(DateTimeOffset watermark)
    {
        if (_pauses.Count == 0)
        {
            return [];
        }
        var expired = _pauses.Values.Where(p => p.Until is { } until && until <= watermark).ToList();
        foreach (var pause in expired)
        {
            _pauses.Remove(PauseScopes.Key(pause.Policy, pause.Phase));
        }
        return expired;
    }

    /// <summary>The pause that holds promotions into <paramref name="phase"/> of <paramref name="policy"/>: the narrowest in force.</summary>
    public Pause? Covering(string policy, string phase)
    {
        if (_pauses.Count == 0)
        {
            return null;
        }
        return _pauses.GetValueOrDefault(PauseScopes.Key(policy, phase))
            ?? _pauses.GetValueOrDefault(PauseScopes.Key(policy, null))
            ?? _pauses.GetValueOrDefault(PauseScopes.Key(null, null));
    }

    public void Restore(Pause pause) => _pauses[PauseScopes.Key(pause.Policy, pause.Phase)] = pause;
}
