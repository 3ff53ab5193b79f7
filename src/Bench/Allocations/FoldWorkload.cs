using System.Text;
using Streaming.Contracts.Json;
using Streaming.Contracts.Signals;

namespace Streaming.Bench.Allocations;

/// <summary>
/// The signals of the allocation bench: <c>jobs</c> jobs in shadow, one signal each per simulated minute with three
/// metrics and two labels, as the pipeline bench's workload, except that their checksums never pass the promotion
/// gate (as in the latency bench): every signal is evaluated against a window that keeps filling, and nothing moves.
/// </summary>
sealed class FoldWorkload(int jobs, DateTimeOffset start)
{
    static readonly string[] Teams = ["orders", "payments", "inventory", "users", "shipping"];

    readonly string[] _jobIds = [.. Enumerable.Range(0, jobs).Select(j => $"bench-{Teams[j % Teams.Length]}-{j}")];
    readonly byte[][] _keys = [.. Enumerable.Range(0, jobs).Select(j => Encoding.UTF8.GetBytes($"bench-{Teams[j % Teams.Length]}-{j}"))];

    public int Jobs => jobs;

    public string JobId(int job) => _jobIds[job];

    public byte[] Key(int job) => _keys[job];

    public DateTimeOffset At(int minute) => start.AddMinutes(minute);

    /// <summary>The value of job <paramref name="job"/>'s signal of minute <paramref name="minute"/> (0-based).</summary>
    public byte[] Message(int job, int minute)
    {
        var n = (long)minute * jobs + job;
        return ContractsJson.SerializeToUtf8(new JobSignal(
            JobSignal.SchemaV1,
            _jobIds[job],
            At(minute),
            minute + 1,
            "shadow",
            new Dictionary<string, double>
            {
                ["checksum_mismatch_rate"] = 0.0015 + 0.0001 * ((n * 7919) % 10) / 10,
                ["landing_latency_p95_ms"] = 700 + (n * 104729) % 300,
                ["error_rate"] = 0.0005,
            },
            new Dictionary<string, string> { ["team"] = Teams[job % Teams.Length], ["region"] = "eu" },
            $"bench-{n}"));
    }
}
