using Streaming.Contracts.Json;
using Streaming.Contracts.Signals;

namespace Streaming.Bench.Workload;

/// <summary>
/// The benchmark's signals: <c>jobs</c> jobs each reporting once per simulated minute with clean metrics, in round-robin
/// order, so every job's window fills and the promoter has real decisions to make.
/// </summary>
public sealed class SignalWorkload(int jobs, DateTimeOffset start)
{
    static readonly string[] Teams = ["orders", "payments", "inventory", "users", "shipping"];

    public int Jobs { get; } = jobs;

    public static string JobId(int index) => $"bench-{Teams[index % Teams.Length]}-{index}";

    /// <summary>The <paramref name="n"/>-th message of the run (0-based): its key and its value bytes.</summary>
    public (string Key, byte[] Value) Message(long n)
    {
        var job = (int)(n % Jobs);
        var minute = n / Jobs;
        var jobId = JobId(job);
        var signal = new JobSignal(
            JobSignal.SchemaV1,
            jobId,
            start.AddMinutes(minute),
            minute + 1,
            "shadow",
            new Dictionary<string, double>
            {
                ["checksum_mismatch_rate"] = 0.0001 * ((n * 7919) % 10) / 10,
                ["landing_latency_p95_ms"] = 700 + (n * 104729) % 300,
                ["error_rate"] = 0.0005,
            },
            new Dictionary<string, string> { ["team"] = Teams[job % Teams.Length], ["region"] = "eu" },
            $"bench-{n}");
        return (jobId, ContractsJson.SerializeToUtf8(signal));
    }
}
