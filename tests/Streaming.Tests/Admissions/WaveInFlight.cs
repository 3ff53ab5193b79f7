using System.Text.Json;
using Npgsql;
using Streaming.Contracts.History;
using Xunit;

namespace Streaming.Tests.Admissions;

/// <summary>
/// The wave the process tests of fleet-wide slots run (<see cref="Policy"/>: 2 jobs at a time into reverse_shadow), and
/// how they recompute it from the log: walked in its order, a slot is held from its grant to its release, and a job
/// promoted with it is in flight until then.
/// </summary>
public static class WaveInFlight
{
    public const int Cap = 2;

    public const string Policy = """
        name: waves
        phases: [shadow, reverse_shadow, cleanup]
        gates:
          - from: shadow
            to: reverse_shadow
            soak: 3m
            promote:
              window: 3m
              criteria: [ { metric: error_rate, aggregation: max, comparison: "<=", threshold: 0.01 } ]
            wave: { maxInFlight: 2 }
          - from: reverse_shadow
            to: cleanup
            soak: 3m
            promote:
              window: 3m
              criteria: [ { metric: approved, aggregation: count, comparison: ">=", threshold: 1 } ]
        """;

    /// <summary>The event types the walk reads.</summary>
    public static readonly string[] Types = [PhaseChanged.EventType, AdmissionGranted.EventType, AdmissionReleased.EventType];

    /// <summary>Each job's phase as its latest recorded phase change in <paramref name="store"/> says, else <paramref name="start"/>, into <paramref name="phases"/>.</summary>
    public static async Task<Dictionary<string, string>> PhasesAsync(NpgsqlDataSource store, IReadOnlyList<string> jobs, Dictionary<string, string>? phases = null, string start = "shadow")
    {
        phases ??= jobs.ToDictionary(job => job, _ => start);
        await using var command = store.CreateCommand(
            "select stream_id, data->>'to' from es.events where type = $1 and stream_id = any($2) order by global_position");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = PhaseChanged.EventType });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. jobs] });
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            phases[reader.GetString(0)] = reader.GetString(1);
        }
        return phases;
    }

    /// <summary>
    /// Walks grants, releases and phase changes (<see cref="Types"/>, as type and data) in the log's order; asserts that
    /// every promotion into reverse_shadow had a slot of its own, and returns the most slots held at once, the most jobs
    /// promoted with a slot not given back, and the promotions.
    /// </summary>
    public static (int MostGranted, int MostPromoted, int Promotions) Walk(IEnumerable<(string Type, string Data)> events)
    {
        var granted = new Dictionary<string, Guid>(StringComparer.Ordinal);
        var promoted = new HashSet<Guid>();
        int mostGranted = 0, mostPromoted = 0, promotions = 0;
        foreach (var (type, text) in events)
        {
            using var data = JsonDocument.Parse(text);
            var root = data.RootElement;
            var job = root.GetProperty("jobId").GetString()!;
            switch (type)
            {
                case AdmissionGranted.EventType:
                    granted[job] = root.GetProperty("requestId").GetGuid();
                    break;
                case AdmissionReleased.EventType:
                    var request = root.GetProperty("requestId").GetGuid();
                    promoted.Remove(request);
                    if (granted.TryGetValue(job, out var held) && held == request)
                    {
                        granted.Remove(job);
                    }
                    break;
                case PhaseChanged.EventType when root.GetProperty("direction").GetString() == "promote" && root.GetProperty("to").GetString() == "reverse_shadow":
                    Assert.True(granted.TryGetValue(job, out var grant) && promoted.Add(grant), $"{job} was promoted without a slot of its own");
                    promotions++;
                    break;
            }
            mostGranted = Math.Max(mostGranted, granted.Count);
            mostPromoted = Math.Max(mostPromoted, promoted.Count);
        }
        return (mostGranted, mostPromoted, promotions);
    }
}
