using System.CommandLine;
using System.Data;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using Spectre.Console;
using Streaming.Contracts.Signals;

namespace Streaming.Cli.Commands;

/// <summary>
/// <c>export</c>: events as JSON lines or CSV, filtered by job, label, type and event-time range, in log order. Rows are
/// streamed from PostgreSQL to the output one at a time, so memory stays flat however many there are; a progress bar
/// (over the log's positions) goes to standard error.
/// </summary>
public static class ExportCommand
{
    public sealed record Summary(long Events, string Output, string Format, double Seconds);

    public static Command Create()
    {
        var jobs = new Option<string[]>("--job") { Description = "only these jobs' events (repeatable)" };
        var labels = new Option<string[]>("--label") { Description = "only the events of jobs whose labels include NAME=VALUE (repeatable)" };
        var types = new Option<string[]>("--type") { Description = "only these event types, e.g. phase-changed/v1 (repeatable)" };
        var from = new Option<DateTimeOffset?>("--from") { Description = "only events at or after this event time" };
        var to = new Option<DateTimeOffset?>("--to") { Description = "only events before this event time" };
        var format = new Option<string>("--format") { DefaultValueFactory = _ => "jsonl", Description = "jsonl or csv" };
        format.AcceptOnlyFromAmong("jsonl", "csv");
        var output = new Option<string?>("--output", "-o") { Description = "write to this file (default: standard output)" };
        var command = new Command("export", "Exports events as JSON lines or CSV, streamed in log order") { jobs, labels, types, from, to, format, output };
        return command.WithAction(async (context, parse, cancellationToken) =>
        {
            var selector = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var label in parse.GetValue(labels) ?? [])
            {
                selector[label.Split('=', 2) is [{ Length: > 0 } name, var value] ? name : throw new CommandFailedException($"--label {label}: expected NAME=VALUE", 2)] =
                    label.Split('=', 2)[1];
            }
            var shards = (await context.ShardsAsync(cancellationToken)).All;
            var path = parse.GetValue(output);
            var csv = parse.GetValue(format) == "csv";
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await using var target = path is null ? Console.OpenStandardOutput() : File.Create(path);
            await using var writer = new StreamWriter(target, new UTF8Encoding(false), 1 << 16);
            var ranges = new List<(long First, long Last)>(shards.Count);
            foreach (var store in shards)
            {
                ranges.Add(await RangeAsync(store, cancellationToken));
            }
            if (csv)
            {
                await writer.WriteLineAsync((shards.Count > 1 ? "shard," : "") + "global_position,stream_id,version,type,event_time,recorded_at,event_id,data,metadata");
            }
            long exported = 0;
            await context.Messages.Progress().AutoClear(path is null)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask("exporting", maxValue: Math.Max(1, ranges.Sum(r => r.Last - r.First + 1)));
                    long before = 0;
                    for (var shard = 0; shard < shards.Count; shard++)
                    {
                        var (first, last) = ranges[shard];
                        var done = before;
                        var exportedBefore = exported;
                        exported += await WriteAsync(shards[shard], shards.Count > 1 ? shard : null, writer, csv, parse.GetValue(jobs) ?? [], selector, parse.GetValue(types) ?? [],
                            parse.GetValue(from), parse.GetValue(to),
                            (count, position) =>
                            {
                                task.Value = done + position - first + 1;
                                task.Description = $"exported {exportedBefore + count:N0} events";
                            }, cancellationToken);
                        before += last - first + 1;
                    }
                    task.Value = task.MaxValue;
                });
            await writer.FlushAsync(cancellationToken);
            var summary = new Summary(exported, path ?? "stdout", csv ? "csv" : "jsonl", clock.Elapsed.TotalSeconds);
            if (path is not null)
            {
                context.Print(summary, () => Console.WriteLine($"exported {exported:N0} events to {path} in {summary.Seconds:0.0} s"));
            }
            else
            {
                context.Messages.MarkupLine($"exported {exported:N0} events in {summary.Seconds:0.0} s");
            }
            return 0;
        });
    }

    static async Task<(long First, long Last)> RangeAsync(NpgsqlDataSource store, CancellationToken cancellationToken)
    {
        await using var command = store.CreateCommand("select coalesce(min(global_position), 0), coalesce(max(global_position), 0) from es.events");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    // A shard's events in its log order; with several shards (shard not null) each line names its shard, and a shard
    // other than 0 leaves out its copies of shard 0's control streams (the control partition).
    static async Task<long> WriteAsync(
        NpgsqlDataSource store, int? shard, StreamWriter writer, bool csv, string[] jobs, Dictionary<string, string> labels, string[] types,
        DateTimeOffset? from, DateTimeOffset? to, Action<long, long> progress, CancellationToken cancellationToken)
    {
        await using var connection = await store.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            select global_position, stream_id, version, type, event_time, recorded_at, event_id, data::text, metadata::text
            from es.events
            where (cardinality($1::text[]) = 0 or stream_id = any($1))
              and ($2::jsonb is null or stream_id in (select job_id from projections.job_states where labels @> $2))
              and (cardinality($3::text[]) = 0 or type = any($3))
              and ($4::timestamptz is null or event_time >= $4)
              and ($5::timestamptz is null or event_time < $5)
              and (not $6 or partition <> 0)
            order by global_position
            """, connection) { CommandTimeout = 0 };
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = jobs });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = labels.Count == 0 ? null : JsonSerializer.Serialize(labels), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Jsonb });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = types });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset?> { TypedValue = from?.ToUniversalTime() });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset?> { TypedValue = to?.ToUniversalTime() });
        command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = shard > 0 });
        var shardCell = shard is { } s ? s.ToString(CultureInfo.InvariantCulture) + "," : "";
        var shardField = shard is { } f ? $"\"shard\":{f.ToString(CultureInfo.InvariantCulture)}," : "";
        long count = 0;
        await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var position = reader.GetInt64(0);
            var streamId = reader.GetString(1);
            var version = reader.GetInt64(2);
            var type = reader.GetString(3);
            var eventTime = reader.GetFieldValue<DateTimeOffset>(4).ToString("O", CultureInfo.InvariantCulture);
            var recordedAt = reader.GetFieldValue<DateTimeOffset>(5).ToString("O", CultureInfo.InvariantCulture);
            var eventId = reader.GetGuid(6).ToString();
            var data = reader.GetString(7);
            var metadata = reader.IsDBNull(8) ? null : reader.GetString(8);
            if (csv)
            {
                await writer.WriteLineAsync(shardCell + string.Join(',', position.ToString(CultureInfo.InvariantCulture), Csv(streamId), version.ToString(CultureInfo.InvariantCulture),
                    Csv(type), eventTime, recordedAt, eventId, Csv(Masked(data)), metadata is null ? "" : Csv(metadata)));
            }
            else
            {
                await writer.WriteLineAsync(
                    $"{{{shardField}\"globalPosition\":{position},\"streamId\":{JsonSerializer.Serialize(streamId)},\"version\":{version},\"type\":{JsonSerializer.Serialize(type)}," +
                    $"\"eventTime\":\"{eventTime}\",\"recordedAt\":\"{recordedAt}\",\"eventId\":\"{eventId}\",\"data\":{data},\"metadata\":{metadata ?? "null"}}}");
            }
            if (++count % 10_000 == 0)
            {
                progress(count, position);
            }
        }
        return count;
    }

    /// <summary>
    /// One CSV cell: quoted when it holds a separator, a quote or a line break, and prefixed with a quote when it starts
    /// like a formula (<c>= + - @</c>, tab, carriage return), so a spreadsheet opening the export shows it as text.
    /// </summary>
    public static string Csv(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }
        return value.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    /// <summary>An event's body with secret-looking labels masked as the API masks them (only bodies with labels are parsed).</summary>
    static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Masked(string data)
    {
        if (!data.Contains("\"labels\"", StringComparison.Ordinal) || JsonNode.Parse(data) is not JsonObject body || body["labels"] is not JsonObject labels
            || !labels.Any(l => SecretLabels.LooksSecret(l.Key)))
        {
            return data;
        }
        SecretLabels.MaskInPlace(labels);
        return body.ToJsonString(Relaxed);
    }
}
