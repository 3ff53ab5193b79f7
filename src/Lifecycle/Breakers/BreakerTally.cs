namespace Streaming.Lifecycle.Breakers;

/// <summary>One phase's circuit breaker in Owner mode, as <see cref="BreakerLedger"/> counts it for the whole fleet.</summary>
public sealed class BreakerTally(string policy, string phase)
{
    public string Policy => policy;

    public string Phase => phase;

    /// <summary>Jobs reported into the phase and not reported out of it (never below zero).</summary>
    public int Jobs { get; set; }

    /// <summary>
    /// Event times of the demotions reported out of the phase (the breaker window's), in the order the reports reached the
    /// log, which need not be event time's.
    /// </summary>
    public List<DateTimeOffset> Demotions { get; } = [];

    /// <summary>Since when the ledger holds the breaker open, or null: what its owner records.</summary>
    public DateTimeOffset? OpenSince { get; set; }

    /// <summary>An operator opened the breaker by hand: it stays open until one resets it.</summary>
    public bool Tripped { get; set; }

    /// <summary>How many times the ledger opened or closed it.</summary>
    public int Changes { get; set; }

    /// <summary>Since when the last recorded change read says it is open, or null: what every Promoter honours.</summary>
    public DateTimeOffset? RecordedOpenSince { get; set; }

    /// <summary>Ids of the changes the ledger made whose record it has not read yet.</summary>
    public HashSet<Guid> Unread { get; } = [];
}
