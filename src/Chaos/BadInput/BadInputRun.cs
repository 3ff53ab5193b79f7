using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Npgsql;
using Streaming.Chaos.Environment;
using Streaming.Contracts;

namespace Streaming.Chaos.BadInput;

/// <summary>
/// Sends every kind of bad input to the real Ingest, each followed by a good signal on the same partition, and checks
/// that each bad one is on the dead-letter topic with its reason, every good one is stored, and Ingest never stopped.
/// </summary>
public sealed class BadInputRun(ChaosSettings settings, PostgresCluster postgres)
{
    public async Task<BadInputFigures> RunAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await using var stage = await RunStage.StartAsync(settings, postgres, "bad-input", cancellationToken);
        var (store, broker, services, probe) = (stage.Store, stage.Broker, stage.Services, stage.Probe);

        var now = DateTimeOffset.UtcNow;
        var neighbourTime = now.AddMinutes(-59).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var cases = BadInputCatalogue.Build(now);
        var sent = new List<(BadInputCase Case, int Partition, long Offset, string Neighbour)>();
        using (var producer = new PacedProducer(broker.BootstrapServers, store, settings.Partitions))
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
        var stored = await StoredSourcesAsync(store, cancellationToken);
        var outcomes = sent.Select(s => new BadInputOutcome(
                s.Case.Kind, s.Partition, s.Offset,
                reasons.GetValueOrDefault((s.Partition, s.Offset)),
                stored.Sources.Contains((s.Partition, s.Offset)),
                stored.Jobs.Contains(s.Neighbour)))
            .ToList();
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

    static async Task<(HashSet<(int, long)> Sources, HashSet<string> Jobs)> StoredSourcesAsync(NpgsqlDataSource store, CancellationToken cancellationToken)
    {
        var sources = new HashSet<(int, long)>();
        var jobs = new HashSet<string>(StringComparer.Ordinal);
        await using var command = store.CreateCommand(
            "select stream_id, (metadata::jsonb->'source'->>'partition')::int, (metadata::jsonb->'source'->>'offset')::bigint from es.events where type = 'signal-recorded/v1'");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            jobs.Add(reader.GetString(0));
            if (!reader.IsDBNull(1) && !reader.IsDBNull(2))
            {
                sources.Add((reader.GetInt32(1), reader.GetInt64(2)));
            }
        }
        return (sources, jobs);
    }
}
