namespace Streaming.Api.Telemetry;

/// <summary>What the pipeline looked like at one moment: rates since the sample before, each fold's lag, the broker's view.</summary>
public sealed record PipelineSample(
    DateTimeOffset At,
    bool DatabaseReachable,
    bool BrokerReachable,
    double EventsPerSecond,
    double DeadLettersPerSecond,
    long DeadLettered,
    long ConsumerLag,
    IReadOnlyList<FoldLag> Folds,
    IReadOnlyList<BreakerGauge> Breakers)
{
    public static PipelineSample None { get; } = new(DateTimeOffset.MinValue, false, false, 0, 0, 0, 0, [], []);
}

/// <summary>How far a fold's checkpoint is behind the log: events (by position) and the age of the oldest event it has not read.</summary>
public sealed record FoldLag(string Name, long Events, double Seconds);

public sealed record BreakerGauge(string Policy, string Phase, bool Open);
