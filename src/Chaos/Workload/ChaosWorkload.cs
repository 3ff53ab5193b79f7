using System.Text;
using Streaming.Contracts.Json;
using Streaming.Contracts.Signals;

namespace Streaming.Chaos.Workload;

/// <summary>
/// The signals the fault suite sends, the same for every run of a seed: <c>jobs</c> jobs, each emitting one signal a
/// minute of event time for <c>signalsPerJob</c> minutes, all jobs' minute m before any job's minute m + 1, as a fleet
/// would. Every job reports shadow, then reverse_shadow from minute 8 and cleanup from minute 14 (a job follows its
/// script, not the decisions, so its decisions depend on its own signals alone); about one signal in 60 is sent again
/// later, byte for byte, as a producer retrying would.
/// </summary>
public sealed class ChaosWorkload(int jobs, int signalsPerJob, int seed)
{
    public static readonly DateTimeOffset Start = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    const int DuplicateEvery = 60;

    public int Jobs { get; } = jobs;

    public int SignalsPerJob { get; } = signalsPerJob;

    public int UniqueSignals => Jobs * SignalsPerJob;

    public static string JobId(int job) => $"chaos-{job:D5}";

    public static JobKind KindOf(int job) => (job % 10) switch
    {
        0 => JobKind.Broken,
        1 => JobKind.Regressing,
        2 => JobKind.Noisy,
        _ => JobKind.Healthy,
    };

    /// <summary>Every message in the order it is produced, duplicates included.</summary>
    public IEnumerable<WorkloadMessage> Messages()
    {
        var pending = new Queue<(int Due, WorkloadMessage Message)>();
        var sent = 0;
        for (var minute = 0; minute < SignalsPerJob; minute++)
        {
            for (var job = 0; job < Jobs; job++)
            {
                var message = Signal(job, minute);
                yield return message;
                sent++;
                if (Mix(job, minute, 7) % DuplicateEvery == 0)
                {
                    pending.Enqueue((sent + 1 + (int)(Mix(job, minute, 8) % 2_000), message with { IsDuplicate = true }));
                }
                while (pending.Count > 0 && pending.Peek().Due <= sent)
                {
                    yield return pending.Dequeue().Message;
                }
            }
        }
        while (pending.Count > 0)
        {
            yield return pending.Dequeue().Message;
        }
    }

    /// <summary>The signal of <paramref name="job"/> at <paramref name="minute"/>.</summary>
    public WorkloadMessage Signal(int job, int minute)
    {
        var jobId = JobId(job);
        var phase = minute < 8 ? "shadow" : minute < 14 ? "reverse_shadow" : "cleanup";
        var metrics = new Dictionary<string, double>
        {
            ["checksum_mismatch_rate"] = Fraction(job, minute, 1) * 0.0001,
            ["landing_latency_p95_ms"] = Math.Round(500 + 400 * Fraction(job, minute, 2)),
            ["error_rate"] = Math.Round(Fraction(job, minute, 3) * 0.001, 6),
        };
        switch (KindOf(job))
        {
            case JobKind.Broken:
                metrics["checksum_mismatch_rate"] = 0.02;
                break;
            case JobKind.Regressing when phase != "shadow":
                metrics["error_rate"] = 0.05;
                break;
            case JobKind.Noisy when Mix(job, minute, 4) % 4 == 0:
                metrics["landing_latency_p95_ms"] = 2600;
                break;
        }
        metrics["checksum_mismatch_rate"] = Math.Round(metrics["checksum_mismatch_rate"], 8);
        var signal = new JobSignal(
            JobSignal.SchemaV1, jobId, Start.AddMinutes(minute), minute + 1, phase, metrics,
            new Dictionary<string, string> { ["suite"] = "chaos", ["kind"] = KindOf(job).ToString().ToLowerInvariant() },
            $"{jobId}:{minute + 1}");
        return new WorkloadMessage(jobId, minute + 1, Encoding.UTF8.GetBytes(jobId), ContractsJson.SerializeToUtf8(signal), false);
    }

    double Fraction(int job, int minute, int salt) => Mix(job, minute, salt) % 10_000 / 10_000.0;

    // A deterministic hash of the inputs and the seed (splitmix64), so a seed replays the same workload anywhere.
    ulong Mix(int job, int minute, int salt)
    {
        var x = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)job * 0xBF58476D1CE4E5B9UL + (ulong)minute * 0x94D049BB133111EBUL + (ulong)salt);
        x = unchecked((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL);
        x = unchecked((x ^ (x >> 27)) * 0x94D049BB133111EBUL);
        return x ^ (x >> 31);
    }
}
