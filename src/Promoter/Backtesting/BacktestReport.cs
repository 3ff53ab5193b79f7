namespace Streaming.Promoter.Backtesting;

/// <summary>
/// What a candidate policy would have decided over recorded history, against what the policies in force decided:
/// <see cref="Gained"/> decisions only the candidate makes, <see cref="Lost"/> ones only the recorded policies made.
/// <see cref="BaselineReproducesRecord"/> says whether replaying the recorded policies gave exactly the decisions
/// stored in the log (it should: the engine is the Promoter's own), <see cref="BaselineReproducesDeferrals"/> the same of
/// the promotions it recorded as held (<c>promotion-deferred/v1</c>: paused, outside a window, silent, wave, breaker).
/// </summary>
public sealed record BacktestReport(
    string Candidate,
    long Events,
    int Jobs,
    int RecordedDecisions,
    bool BaselineReproducesRecord,
    int BaselineMismatches,
    BacktestSide Baseline,
    BacktestSide CandidateSide,
    int Gained,
    int Lost,
    int JobsDiffering,
    IReadOnlyList<JobDifference> Differences)
{
    public int RecordedDeferrals { get; init; }

    public bool BaselineReproducesDeferrals { get; init; } = true;

    public int DeferralMismatches { get; init; }

    /// <summary>The owner's grants of wave slots in the log (<c>admission-granted/v1</c>, a history recorded in Owner mode).</summary>
    public int RecordedGrants { get; init; }

    /// <summary>Grants the baseline's fold of the recorded requests and releases makes and the log lacks, and the other way round.</summary>
    public int GrantMismatches { get; init; }

    public bool BaselineReproducesGrants => GrantMismatches == 0;

    /// <summary>The breaker changes in the log of a history recorded in Owner mode (<c>circuit-breaker-changed/v1</c>, the owner's).</summary>
    public int RecordedBreakerChanges { get; init; }

    /// <summary>Breaker changes the baseline's fold of the recorded breaker reports makes and the log lacks, and the other way round (Owner mode).</summary>
    public int BreakerChangeMismatches { get; init; }

    public bool BaselineReproducesBreakerChanges => BreakerChangeMismatches == 0;
}

/// <summary>
/// One side's totals: moves by direction, flaps (a move undone within a day), time for jobs to reach each phase, jobs
/// stuck at the end, events it could not apply (skipped for their job, as the live Promoter skips them), and promotions
/// held back by cause (<see cref="Held"/>: each wait once, as <c>promotion-deferred/v1</c> records it).
/// </summary>
public sealed record BacktestSide(
    int Promotions,
    int Demotions,
    int Overrides,
    int Flaps,
    int Stuck,
    IReadOnlyList<PhaseTiming> TimeToPhase,
    int Poisoned = 0)
{
    public IReadOnlyDictionary<string, int> Held { get; init; } = new Dictionary<string, int>();
}

/// <summary>How long after their first signal jobs reached a phase: how many did, and the 50th and 95th percentiles (hours).</summary>
public sealed record PhaseTiming(string Phase, int Jobs, double P50Hours, double P95Hours);

/// <summary>A job whose decisions differ, each as <c>from→to@time</c> in event time.</summary>
public sealed record JobDifference(string JobId, IReadOnlyList<string> Baseline, IReadOnlyList<string> Candidate);
