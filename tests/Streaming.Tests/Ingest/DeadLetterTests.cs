using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streaming.Embedded.Broker;
using Streaming.Contracts;
using Streaming.Hosting.Kafka;
using Streaming.Ingest.DeadLetters;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Ingest;

public sealed class DeadLetterTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    // Issue 13: a stale signal's dead letter went out after the commit; when publishing it failed, the retry was fenced
    // by the offsets it had just stored and the rejected message was lost.
    [Fact]
    public async Task A_dead_letter_the_broker_refuses_for_a_while_is_published_before_its_offset_is_stored_and_never_lost()
    {
        await using var database = await IngestProbe.MigratedAsync();
        await using var ingest = new StandaloneIngest(database.ConnectionString, settings: new Dictionary<string, string?>
        {
            // Dead letters the broker has not taken within 1.5 s fail, and Ingest retries the batch.
            ["Kafka:Client:message.timeout.ms"] = "1500",
        });
        await ingest.StartAsync();
        ingest.Produce(IngestProbe.Signals("dlq-retry", 5, 1));
        await IngestProbe.StoredOffsetAsync(database, 1);

        ingest.Kafka.PushPartitionErrors(Topics.SignalsDeadLetter, 0, KafkaApiKey.Produce, ErrorCode.NotEnoughReplicas, count: 8);
        ingest.Produce([.. IngestProbe.Signals("dlq-retry", 3, 1), .. IngestProbe.Signals("dlq-retry", 6, 1)]);

        using var reader = new TopicReader(ingest.Kafka.BootstrapServers, Topics.SignalsDeadLetter, 1);
        var letter = reader.ReadUntil(m => m.Count > 0, Timeout, "the stale signal's dead letter")[0];
        Assert.Equal("seq 3 arrived after a higher seq of job dlq-retry was stored (out of order)", Header(letter, DeadLetterPublisher.ReasonHeader));
        await IngestProbe.StoredOffsetAsync(database, 3);
        Assert.Equal(2, await IngestProbe.EventCountAsync(database, "dlq-retry"));
        Assert.Contains(ingest.Logs.Entries, e => e.Level == LogLevel.Warning && e.Message.StartsWith("ingest consumer 1: outage began", StringComparison.Ordinal));
        Assert.False(ingest.Run.IsCompleted, "the ingest worker stopped");
    }

    // Issue 13: a key with a newline forged a fake ERR line in the log, and a 10,000-character key was logged whole.
    [Fact]
    public async Task Keys_and_values_from_messages_are_escaped_and_cut_short_in_log_lines()
    {
        await using var database = await IngestProbe.MigratedAsync();
        await using var ingest = new StandaloneIngest(database.ConnectionString);
        await ingest.StartAsync();
        var forging = "job-x\n[12:00:00.000 ERR] Streaming.Ingest: forged line";
        var huge = new string('k', 10_000);
        ingest.Produce([(forging, "not json"u8.ToArray()), (huge, "{}"u8.ToArray()), ("job-y", Encoding.UTF8.GetBytes("{\"schema\":\"\\u001B[31mred\"}"))]);

        await Eventually.True(() => Task.FromResult(ingest.Counters.DeadLettered == 3), Timeout, "three dead letters");
        var lines = ingest.Logs.Entries.Where(e => e.Message.StartsWith("Dead-lettered", StringComparison.Ordinal)).Select(e => e.Message).ToList();
        Assert.Equal(3, lines.Count);
        Assert.All(lines, line => Assert.DoesNotContain(line, c => char.IsControl(c)));
        Assert.All(lines, line => Assert.True(line.Length < 500, $"a line of {line.Length} characters"));
        Assert.Contains(lines, line => line.Contains(@"job-x\n[12:00:00.000 ERR] Streaming.Ingest: forged line", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("kkkk…(+9872 bytes)", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains(@"unsupported schema '\u001B[31mred'", StringComparison.Ordinal));
    }

    static string Header(ConsumeResult<byte[]?, byte[]?> r, string name) => Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes(name));
}
