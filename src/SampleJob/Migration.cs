using Microsoft.Extensions.Logging;

namespace Streaming.SampleJob;

/// <summary>
/// What the sample job does in each phase of a store migration (a stand-in for a CDC pipeline), and the metrics it
/// measures while doing it. Its behaviour is switched by the phase Streaming assigns it.
/// </summary>
sealed partial class Migration(string jobId, MigrationProfile profile, Random random, ILogger<Migration> logger)
{
    int _badReadingsLeft = 5;
    int _readingsInPhase;

    public string Phase { get; private set; } = "shadow";

    public void SwitchTo(string phase, string why)
    {
        LogSwitch(logger, jobId, Phase, phase, Behaviour(phase), why);
        Phase = phase;
        _readingsInPhase = 0;
    }

    public Dictionary<string, double> Measure()
    {
        _readingsInPhase++;
        var metrics = new Dictionary<string, double>
        {
            ["checksum_mismatch_rate"] = Math.Round(0.0001 * random.NextDouble(), 6),
            ["landing_latency_p95_ms"] = Math.Round(600 + 400 * random.NextDouble()),
            ["error_rate"] = Math.Round(0.001 * random.NextDouble(), 6),
        };
        if (profile == MigrationProfile.Regressing && Phase == "reverse_shadow" && _readingsInPhase > 20 && _badReadingsLeft > 0)
        {
            _badReadingsLeft--;
            metrics["error_rate"] = Math.Round(0.02 + 0.01 * random.NextDouble(), 6);
            LogBadReading(logger, jobId, metrics["error_rate"]);
        }
        return metrics;
    }

    static string Behaviour(string phase) => phase switch
    {
        "shadow" => "writing to the new store in shadow, reads served by the old one, comparing checksums",
        "reverse_shadow" => "serving reads from the new store, the old one shadows it",
        "cleanup" => "decommissioning the old store",
        "done" => "migrated: the old store is gone",
        _ => $"running phase '{phase}'",
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "{JobId}: {From} -> {To}: now {Behaviour} ({Why})")]
    static partial void LogSwitch(ILogger logger, string jobId, string from, string to, string behaviour, string why);

    [LoggerMessage(Level = LogLevel.Information, Message = "{JobId}: reverse shadow reads failing (error rate {ErrorRate})")]
    static partial void LogBadReading(ILogger logger, string jobId, double errorRate);
}
