using Streaming.Contracts.Signals;

namespace Streaming.Embedded.Fleet;

/// <summary>One simulated pipeline job: reports its phase and metrics every simulated minute and follows phase changes.</summary>
sealed class SimulatedJob(string jobId, JobProfile profile, string team, string region, Random random)
{
    string _phase = "shadow";
    string? _pendingPhase;
    DateTimeOffset _switchAt;
    DateTimeOffset _phaseEnteredAt;
    int _badReadingsLeft = 5;

    public string JobId { get; } = jobId;

    public JobProfile Profile { get; } = profile;

    public void Resume(string phase, DateTimeOffset now)
    {
        _phase = phase;
        _phaseEnteredAt = now;
    }

    public void Tell(string phase, DateTimeOffset switchAt)
    {
        _pendingPhase = phase;
        _switchAt = switchAt;
    }

    public JobSignal Emit(DateTimeOffset now, long seq)
    {
        if (_pendingPhase is not null && now >= _switchAt)
        {
            _phase = _pendingPhase;
            _pendingPhase = null;
            _phaseEnteredAt = now;
        }
        var metrics = new Dictionary<string, double>
        {
            ["checksum_mismatch_rate"] = Round(0.0001 * random.NextDouble()),
            ["landing_latency_p95_ms"] = Math.Round(600 + 400 * random.NextDouble()),
            ["error_rate"] = Round(0.001 * random.NextDouble()),
        };
        var minutesInPhase = (now - _phaseEnteredAt).TotalMinutes;
        switch (Profile)
        {
            case JobProfile.Broken:
                metrics["checksum_mismatch_rate"] = Round(0.01 + 0.01 * random.NextDouble());
                break;
            case JobProfile.Regressing when _phase == "reverse_shadow" && _badReadingsLeft > 0 && minutesInPhase >= 20:
                metrics["error_rate"] = Round(0.02 + 0.01 * random.NextDouble());
                _badReadingsLeft--;
                break;
            case JobProfile.Noisy when random.NextDouble() < 0.08:
                metrics["landing_latency_p95_ms"] = Math.Round(2500 + 1000 * random.NextDouble());
                break;
        }
        return new JobSignal(
            JobSignal.SchemaV1,
            JobId,
            now,
            seq,
            _phase,
            metrics,
            new Dictionary<string, string> { ["team"] = team, ["region"] = region, ["profile"] = Profile.ToString().ToLowerInvariant() },
            $"{JobId}:{seq}");
    }

    static double Round(double value) => Math.Round(value, 6);
}
