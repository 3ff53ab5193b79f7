namespace Streaming.Lifecycle;

/// <summary>What <see cref="FleetControl"/> keeps for one phase of one policy.</summary>
public sealed class PhaseTraffic(string policy, string phase)
{
    public string Policy => policy;

    public string Phase => phase;

    /// <summary>Jobs assigned to the phase now.</summary>
    public int Jobs { get; set; }

    /// <summary>Jobs promoted into the phase that have not soaked there yet, with when they were promoted.</summary>
    public SortedDictionary<string, DateTimeOffset> InFlight { get; } = new(StringComparer.Ordinal);

    /// <summary>Event times of the latest promotions into the phase (the last hour's).</summary>
    public Queue<DateTimeOffset> Promotions { get; } = new();

    /// <summary>Event times of the latest demotions out of the phase (the breaker window's).</summary>
    public Queue<DateTimeOffset> Demotions { get; } = new();

    public DateTimeOffset? BreakerOpenSince { get; set; }

    /// <summary>An operator opened the breaker by hand: it stays open until one resets it.</summary>
    public bool Tripped { get; set; }

    /// <summary>How many times the breaker opened or closed: numbers its events.</summary>
    public int BreakerChanges { get; set; }

    /// <summary>Jobs the policy would promote into the phase, waiting for a slot.</summary>
    public SortedDictionary<string, QueuedJob> Queue { get; } = new(StringComparer.Ordinal);
}
