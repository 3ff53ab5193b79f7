using System.Text.Json.Nodes;
using Npgsql;
using Streaming.EventStore;

namespace Streaming.Chaos.Verification;

/// <summary>
/// What a run left in its store, read once everything has caught up: the signals; the jobs' other events (decisions,
/// deferrals), counted by content; and the job-state rows. Where a decision lands among its job's signals depends on
/// timing (the Promoter and Ingest append to the same stream), so the events' stream positions are left out: their
/// versions and the ids derived from them. With several shards it is the union of every shard's, and counts the jobs'
/// events and rows found on another shard than their log partition's (<see cref="Misplaced"/>).
/// </summary>
public sealed record StoreSnapshot(
    IReadOnlyDictionary<(string JobId, long Seq), string> Signals,
    long SignalRows,
    IReadOnlyDictionary<(string Stream, string Content), string> JobEvents,
    IReadOnlyDictionary<Guid, string> Decisions,
    IReadOnlyDictionary<string, string> JobStates,
    long Misplaced)
{
    public static async Task<StoreSnapshot> ReadAsync(StoreShards shards, string jobPrefix, CancellationToken cancellationToken)
    {
        var signals = new Dictionary<(string, long), string>();
        long rows = 0;
        long misplaced = 0;
        var counts = new Dictionary<(string, string), int>();
        var decisions = new Dictionary<Guid, string>();
        var states = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var shard = 0; shard < shards.Count; shard++)
        {
            var store = shards.DataSource(shard);
            bool Elsewhere(string jobId) => shards.ShardOfJob(jobId) != shard;
            await using (var command = store.CreateCommand("select stream_id, seq, data::text from es.events where type = 'signal-recorded/v1'"))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    rows++;
                    var jobId = reader.GetString(0);
                    misplaced += Elsewhere(jobId) ? 1 : 0;
                    signals[(jobId, reader.GetInt64(1))] = reader.GetString(2);
                }
            }
            await using (var command = store.CreateCommand(
                "select stream_id, version, type, event_id, data::text from es.events where type <> 'signal-recorded/v1' and stream_id like $1"))
            {
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = jobPrefix + "%" });
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    var stream = reader.GetString(0);
                    var type = reader.GetString(2);
                    var data = reader.GetString(4);
                    var content = (stream, type + " " + WithoutPositions(data));
                    counts[content] = counts.GetValueOrDefault(content) + 1;
                    misplaced += Elsewhere(stream) ? 1 : 0;
                    if (type == "phase-changed/v1")
                    {
                        decisions[reader.GetGuid(3)] = data;
                    }
                }
            }
            await using (var command = store.CreateCommand("select job_id, (to_jsonb(j) - 'updated_at')::text from projections.job_states j"))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    var jobId = reader.GetString(0);
                    misplaced += Elsewhere(jobId) ? 1 : 0;
                    states[jobId] = reader.GetString(1);
                }
            }
        }
        var events = counts.ToDictionary(c => c.Key, c => c.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new StoreSnapshot(signals, rows, events, decisions, states, misplaced);
    }

    // An event's JSON without its stream positions: properties named eventId or ending in "Version", at any depth.
    static string WithoutPositions(string json)
    {
        var node = JsonNode.Parse(json);
        Strip(node);
        return node?.ToJsonString() ?? "null";
    }

    static void Strip(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject value:
                foreach (var name in value.Select(p => p.Key).ToList())
                {
                    if (name == "eventId" || name.EndsWith("Version", StringComparison.Ordinal) || name == "version")
                    {
                        value.Remove(name);
                    }
                    else
                    {
                        Strip(value[name]);
                    }
                }
                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    Strip(item);
                }
                break;
        }
    }
}
