using System.Text;
using Streaming.Contracts;
using Streaming.Contracts.Json;
using Streaming.Contracts.PhaseChanges;
using Streaming.Contracts.Signals;

namespace Streaming.Tests.Deployment;

/// <summary>kcat, a client that is not .NET, as a job and a subscriber use the compose project's Kafka.</summary>
public static class Kcat
{
    /// <summary>
    /// Produces the signals to <c>job-signals</c>, each keyed by its job id with the Java client's partitioner (murmur2), as
    /// the wire contract asks: with several shards, a message on another partition than its key's is dead-lettered.
    /// </summary>
    public static Task ProduceAsync(string kafka, IEnumerable<JobSignal> signals)
    {
        var lines = new StringBuilder();
        foreach (var signal in signals)
        {
            lines.Append(signal.JobId).Append(':').Append(Encoding.UTF8.GetString(ContractsJson.SerializeToUtf8(signal))).Append('\n');
        }
        return Docker.CheckedAsync("kcat", $"-P -b {kafka} -t {Topics.Signals} -X partitioner=murmur2_random -K :", TimeSpan.FromMinutes(1), lines.ToString());
    }

    /// <summary>Every PhaseChanged on <c>job-phase-changes</c> so far; none while the topic is not there yet.</summary>
    public static async Task<List<PhaseChangedMessage>> ReadPhaseChangesAsync(string kafka)
    {
        var (exitCode, text) = await Docker.RunAsync("kcat", $"-C -b {kafka} -t {Topics.PhaseChanges} -o beginning -e -q -f %s\\n", TimeSpan.FromMinutes(1));
        return exitCode != 0
            ? []
            : [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith('{')).Select(l => ContractsJson.Deserialize<PhaseChangedMessage>(l))];
    }
}
