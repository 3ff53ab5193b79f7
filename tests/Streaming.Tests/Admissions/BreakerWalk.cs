using System.Text.Json;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;

namespace Streaming.Tests.Admissions;

/// <summary>
/// The breaker the process tests of fleet-wide breakers run (<see cref="Policy"/>: reverse_shadow's, opened by a quarter
/// of its jobs demoted within an hour once it holds 10), and how they read it back from the log.
/// </summary>
public static class BreakerWalk
{
    public const string Policy = """
        name: breakers
        phases: [shadow, reverse_shadow, cleanup]
        gates:
          - from: shadow
            to: reverse_shadow
            soak: 3m
            promote:
              window: 3m
              criteria: [ { metric: error_rate, aggregation: max, comparison: "<=", threshold: 0.01 } ]
            demote:
              window: 3m
              criteria: [ { metric: error_rate, aggregation: last, comparison: "<=", threshold: 0.02 } ]
            breaker: { maxDemotionShare: 0.25, window: 1h, minJobs: 10 }
          - from: reverse_shadow
            to: cleanup
            soak: 3m
            promote:
              window: 3m
              criteria: [ { metric: approved, aggregation: count, comparison: ">=", threshold: 1 } ]
        """;

    /// <summary>The event types <see cref="Promotions"/> reads.</summary>
    public static readonly string[] Types = [PhaseChanged.EventType, PromotionDeferred.EventType, CircuitBreakerChanged.EventType];

    /// <summary>The breaker's changes recorded in <paramref name="store"/>, in its log's order.</summary>
    public static async Task<List<CircuitBreakerChanged>> ChangesAsync(NpgsqlDataSource store)
    {
        await using var command = store.CreateCommand("select data::text from es.events where type = $1 order by global_position");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = CircuitBreakerChanged.EventType });
        var changes = new List<CircuitBreakerChanged>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            changes.Add(ContractsJson.Deserialize<CircuitBreakerChanged>(reader.GetString(0)));
        }
        return changes;
    }

    /// <summary>
    /// Walks phase changes, deferrals and breaker changes (<see cref="Types"/>, as type and data) in the log's order: the
    /// promotions of <paramref name="jobs"/> into reverse_shadow before and after the breaker's close, and which of them
    /// were held by it.
    /// </summary>
    public static (int BeforeClose, int AfterClose, HashSet<string> Held) Promotions(IEnumerable<(string Type, string Data)> events, IReadOnlyCollection<string> jobs)
    {
        var closed = false;
        int before = 0, after = 0;
        var held = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (type, text) in events)
        {
            using var data = JsonDocument.Parse(text);
            var root = data.RootElement;
            switch (type)
            {
                case CircuitBreakerChanged.EventType:
                    closed = root.GetProperty("state").GetString() == CircuitBreakerChanged.Closed;
                    break;
                case PromotionDeferred.EventType when jobs.Contains(root.GetProperty("jobId").GetString()!) && root.GetProperty("cause").GetString() == PromotionDeferred.Breaker:
                    held.Add(root.GetProperty("jobId").GetString()!);
                    break;
                case PhaseChanged.EventType when jobs.Contains(root.GetProperty("jobId").GetString()!) && root.GetProperty("direction").GetString() == "promote"
                                                 && root.GetProperty("to").GetString() == "reverse_shadow":
                    if (closed)
                    {
                        after++;
                    }
                    else
                    {
                        before++;
                    }
                    break;
            }
        }
        return (before, after, held);
    }
}
