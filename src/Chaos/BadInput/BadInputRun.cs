using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Npgsql;
using Streaming.Chaos.Environment;
using Streaming.Contracts;

namespace Streaming.Chaos.BadInput;

/// <summary>
/// Sends every kind of bad input to the real Ingest, each followed by a good signal on the same partition, and checks
/// that each bad one is on the dead-letter topic with its reason, every good one is stored, no signal beyond the good ones
/// is, and Ingest never stopped. Stored signals carry no Kafka source, so one is told apart by its stream: every case
/// has job ids of its own.
/// </summary>
public sealed class BadInputRun(ChaosSettings settings, PostgresCluster postgres)
{
    public async Task<BadInputFigures> RunAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await using var stage = await RunStage.StartAsync(settings, [postgres], "bad-input", cancellationToken);
        var (store, broker, services, probe) = (stage.Store, stage.Broker, stage.Services, stage.Probe);

        var now = DateTimeOffset.UtcNow;
        var neighbourTime = now.AddMinutes(-59).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var cases = BadInputCatalogue.Build(now);
        var sent = new List<(BadInputCase Case, int Partition, long Offset, string Neighbour)>();
        using (var producer = new PacedProducer(broker.BootstrapServers, stage.Shards, settings.Partitions))
        {
            for (var i = 0; i < cases.Count; i++)
            {
                var partition = i % settings.Partitions;
                foreach (var (key, value) in cases[i].Before)
                {
                    await producer.ProduceToAsync(partition, key, value, cancellationToken);
                }
                var offset = await producer.ProduceToAsync(partition, cases[i].Key, cases[i].Value, cancellationToken);
                var neighbour = "ok-" + i.ToString("D3", CultureInfo.InvariantCulture);
                var (neighbourKey, neighbourValue) = BadInputCatalogue.Neighbour(neighbour, neighbourTime);
                await producer.ProduceToAsync(partition, neighbourKey, neighbourValue, cancellationToken);
                sent.Add((cases[i], partition, offset, neighbour));
            }
        }
        var caughtUp = true;
        try
        {
            await probe.WaitForIngestAsync(TimeSpan.FromSeconds(60), services.RecentOutput, cancellationToken);
        }
        catch (TimeoutException)
        {
            caughtUp = false;
        }
        var reasons = ReadDeadLetters(broker.BootstrapServers, settings.Partitions);
        var stored = await StoredSignalsAsync(store, cancellationToken);
        // What the good messages account for: each neighbour's one signal, and the messages sent before a case.
        var extra = new Dictionary<string, int>(stored, StringComparer.Ordinal);
        foreach (var (_, _, _, neighbour) in sent)
        {
            extra[neighbour] = extra.GetValueOrDefault(neighbour) - 1;
        }
        foreach (var (key, _) in cases.SelectMany(c => c.Before))
        {
            var stream = Encoding.UTF8.GetString(key);
            extra[stream] = extra.GetValueOrDefault(stream) - 1;
        }
        var outcomes = sent.Select(s => new BadInputOutcome(
                s.Case.Kind, s.Partition, s.Offset,
                reasons.GetValueOrDefault((s.Partition, s.Offset)),
                StreamsOf(s.Case).Any(stream => extra.GetValueOrDefault(stream) > 0),
                stored.ContainsKey(s.Neighbour)))
            .ToList();
        var attributed = cases.SelectMany(StreamsOf).ToHashSet(StringComparer.Ordinal);
        var unexpected = extra.Where(e => e.Value > 0 && !attributed.Contains(e.Key)).Sum(e => e.Value);
        var ingestExits = services.SupervisorLines.Count(l => l.Contains("| ingest (pid", StringComparison.Ordinal) && l.Contains("restarting it in", StringComparison.Ordinal));
        var output = services.OutputLines;
        await services.StopAsync();
        return new BadInputFigures(
            outcomes,
            ingestExits,
            // The supervisor puts each line a process writes behind its name: a key's newline shows as a line of its own.
            output.Count(l => l.Contains("| [00:00:00.000 ERR] FORGED-LOG-LINE", StringComparison.Ordinal)),
            output.Count == 0 ? 0 : output.Max(l => l.Length),
            caughtUp,
            unexpected,
            clock.Elapsed);
    }

    // The dead-letter topic, read to its end: each letter's source partition and offset, and its reason.
    static Dictionary<(int, long), string> ReadDeadLetters(string bootstrapServers, int partitions)
    {
        var reasons = new Dictionary<(int, long), string>();
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "chaos-dlq-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            EnablePartitionEof = true,
        }).SetLogHandler((_, _) => { }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(Topics.SignalsDeadLetter, p, Offset.Beginning)));
        var atEnd = new HashSet<int>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (atEnd.Count < partitions && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is not { } result)
            {
                continue;
            }
            if (result.IsPartitionEOF)
            {
                atEnd.Add(result.Partition.Value);
                continue;
            }
            var headers = result.Message.Headers;
            string? Header(string name) => headers.TryGetLastBytes(name, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;
            if (int.TryParse(Header("dlq-source-partition"), CultureInfo.InvariantCulture, out var partition)
                && long.TryParse(Header("dlq-source-offset"), CultureInfo.InvariantCulture, out var offset))
            {
                reasons[(partition, offset)] = Header("dlq-reason") ?? "";
            }
        }
        consumer.Close();
        return reasons;
    }

    // How many signals each stream holds.
    static async Task<Dictionary<string, int>> StoredSignalsAsync(NpgsqlDataSource store, CancellationToken cancellationToken)
    {
        var streams = new Dictionary<string, int>(StringComparer.Ordinal);
        await using var command = store.CreateCommand("select stream_id, count(*)::int from es.events where type = 'signal-recorded/v1' group by stream_id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            streams[reader.GetString(0)] = reader.GetInt32(1);
        }
        return streams;
    }

    // The streams a case's bad message could have been stored in, had Ingest taken it: its key's, and its value's job id
    // where the value has one.
    static IEnumerable<string> StreamsOf(BadInputCase badCase)
    {
        if (badCase.Key is { } key)
        {
            yield return Encoding.UTF8.GetString(key);
        }
        if (JobIdIn(badCase.Value) is { } jobId)
        {
            yield return jobId;
        }
    }

    static string? JobIdIn(byte[]? value)
    {
        try
        {
            using var document = JsonDocument.Parse(value ?? []);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("jobId", out var jobId) && jobId.ValueKind == JsonValueKind.String
                ? jobId.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
