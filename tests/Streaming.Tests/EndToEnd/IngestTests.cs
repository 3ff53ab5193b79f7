using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Streaming.Contracts;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Ingest.Consuming;
using Streaming.Ingest.DeadLetters;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.EndToEnd;

public sealed class IngestTests(Pipeline pipeline) : IClassFixture<Pipeline>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    readonly StoreProbe _store = new(pipeline.Database);

    Task<string> Unstored() => UnstoredSignals.DescribeAsync(pipeline.Database, pipeline.Kafka.BootstrapServers, 4, pipeline.IngestServices);

    [Fact]
    public async Task The_same_signal_delivered_twice_is_stored_once()
    {
        // Given a signal, then the very same signal again
        const string job = "ingest-dup-1";
        var signal = SignalFactory.Signal(job, 7, SignalFactory.Start, "shadow", SignalFactory.Good);
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        producer.Produce([signal, signal, SignalFactory.Signal(job, 8, SignalFactory.Start.AddMinutes(1), "shadow", SignalFactory.Good)]);

        // Then the store holds seq 7 once and seq 8, and the repeat is counted, not dead-lettered
        await Eventually.Get(() => _store.CountEventsAsync(job), n => n == 2, Timeout, "two stored signals", Unstored);
        var counters = pipeline.IngestServices.GetRequiredService<IngestCounters>();
        await Eventually.True(() => Task.FromResult(counters.Duplicates >= 1), Timeout, "the duplicate to be counted");
    }

    [Fact]
    public async Task Each_consumer_says_how_librdkafka_fetches_its_partitions_and_where_its_loop_stands()
    {
        // Given a signal stored
        const string job = "ingest-state-1";
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        producer.Produce([SignalFactory.Signal(job, 1, SignalFactory.Start, "shadow", SignalFactory.Good)]);
        await Eventually.Get(() => _store.CountEventsAsync(job), n => n == 1, Timeout, "the signal", Unstored);

        // Then within a statistics interval every partition is fetched by one consumer, active, and each consumer's loop
        // reads its partitions with no append in flight
        var states = pipeline.IngestServices.GetRequiredService<ConsumerStates>();
        await Eventually.True(() => Task.FromResult(states.All.SelectMany(s => s.Fetches).Select(f => f.Partition).Order().SequenceEqual([0, 1, 2, 3])
            && states.All.SelectMany(s => s.Fetches).All(f => f.FetchState == "active" && f.NextOffset >= f.AppOffset && f.HighWatermark >= f.AppOffset)
            && states.All.All(s => s.Loop.Contains("no append in flight", StringComparison.Ordinal))),
            Timeout, "every partition fetched", () => Task.FromResult(states.ToString()));
        Assert.All(states.All, s => Assert.Matches(@"^partitions (\d Reading at (\d+|none)(, )?)+;", s.Loop));
    }

    // Issue 13: a repeated seq with different content was dropped with only an INFO line.
    [Fact]
    public async Task A_repeated_seq_with_different_content_goes_to_the_dead_letter_topic_as_a_conflicting_duplicate()
    {
        // Given a signal, then another message reusing its seq with other metrics, then the next signal
        const string job = "ingest-conflict-1";
        var signal = SignalFactory.Signal(job, 7, SignalFactory.Start, "shadow", SignalFactory.Good);
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        producer.Produce([signal]);
        await Eventually.Get(() => _store.CountEventsAsync(job), n => n == 1, Timeout, "the first signal", Unstored);
        producer.Produce([signal with { Metrics = SignalFactory.Failing }, SignalFactory.Signal(job, 8, SignalFactory.Start.AddMinutes(1), "shadow", SignalFactory.Good)]);

        // Then the second copy of seq 7 is on the dead-letter topic with its reason, the first stays, and seq 8 is stored
        using var reader = new TopicReader(pipeline.Kafka.BootstrapServers, Topics.SignalsDeadLetter, 4);
        var letter = reader.ReadUntil(m => m.Any(r => Key(r) == job), Timeout, "the dead letter").Single(r => Key(r) == job);
        Assert.Equal($"seq 7 of job {job} was stored before with different content (conflicting duplicate)", Header(letter, DeadLetterPublisher.ReasonHeader));
        Assert.Contains("0.05", Encoding.UTF8.GetString(letter.Message.Value!), StringComparison.Ordinal);
        await Eventually.Get(() => _store.CountEventsAsync(job), n => n == 2, Timeout, "seq 8", Unstored);
        await using var command = pipeline.Database.CreateCommand("select data->>'metrics' from es.events where stream_id = @job and seq = 7");
        command.Parameters.AddWithValue("job", job);
        Assert.Contains("0.001", (string)(await command.ExecuteScalarAsync())!, StringComparison.Ordinal);
        Assert.True(pipeline.IngestServices.GetRequiredService<IngestCounters>().Conflicting >= 1);
    }

    // Issue 13: a signal dated 0001-01-01 was stored (and then crashed the Projector and Promoter on every start).
    [Fact]
    public async Task Signals_dated_before_2000_or_a_day_ahead_of_their_message_are_dead_lettered_and_their_neighbours_stored()
    {
        const string job = "ingest-times-1";
        var now = DateTimeOffset.UtcNow;
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        producer.Produce(
        [
            SignalFactory.Signal(job, 1, DateTimeOffset.MinValue, "shadow", SignalFactory.Good),
            SignalFactory.Signal(job, 2, now.AddDays(2), "shadow", SignalFactory.Good),
            SignalFactory.Signal(job, 3, now.AddMinutes(5), "shadow", SignalFactory.Good),
        ]);

        using var reader = new TopicReader(pipeline.Kafka.BootstrapServers, Topics.SignalsDeadLetter, 4);
        var letters = reader.ReadUntil(m => m.Count(r => Key(r) == job) == 2, Timeout, "two dead letters").Where(r => Key(r) == job)
            .Select(r => Header(r, DeadLetterPublisher.ReasonHeader)).Order(StringComparer.Ordinal).ToList();
        Assert.StartsWith("emittedAt 0001-01-01T00:00:00+00:00 is before 2000-01-01T00:00:00Z", letters[0], StringComparison.Ordinal);
        Assert.Contains("is more than 1.00:00:00 ahead of the message's timestamp", letters[1], StringComparison.Ordinal);
        await Eventually.Get(() => _store.CountEventsAsync(job), n => n == 1, Timeout, "the signal within the skew", Unstored);
    }

    [Fact]
    public async Task A_malformed_message_goes_to_the_dead_letter_topic_with_its_reason_and_later_signals_are_stored()
    {
        // Given a message that is not JSON, produced by kcat as a non-.NET job would, followed by a valid signal for the same key
        const string job = "ingest-dlq-1";
        await RunKcatAsync($"-P -b {pipeline.Kafka.BootstrapServers} -t {Topics.Signals} -k {job} -K :", $"{job}:{{not json at all\n");
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        producer.Produce([SignalFactory.Signal(job, 1, SignalFactory.Start, "shadow", SignalFactory.Good)]);

        // Then the dead-letter topic has the original bytes with the reason and the source coordinates
        using var reader = new TopicReader(pipeline.Kafka.BootstrapServers, Topics.SignalsDeadLetter, 4);
        var letter = reader.ReadUntil(m => m.Any(r => Key(r) == job), Timeout, "the dead letter").First(r => Key(r) == job);
        Assert.Equal("{not json at all", Encoding.UTF8.GetString(letter.Message.Value!));
        Assert.StartsWith("malformed JSON", Header(letter, DeadLetterPublisher.ReasonHeader), StringComparison.Ordinal);
        Assert.Equal(Topics.Signals, Header(letter, DeadLetterPublisher.SourceTopicHeader));
        Assert.True(long.Parse(Header(letter, DeadLetterPublisher.SourceOffsetHeader), System.Globalization.CultureInfo.InvariantCulture) >= 0);

        // And the valid signal behind it is stored
        await Eventually.Get(() => _store.CountEventsAsync(job), n => n == 1, Timeout, "the valid signal", Unstored);
    }

    [Fact]
    public async Task Stopping_ingest_mid_stream_and_starting_it_again_loses_and_duplicates_nothing()
    {
        // Given 50 jobs producing 40 signals each while Ingest is stopped and started twice
        var jobs = Enumerable.Range(1, 50).Select(i => $"ingest-restart-{i}").ToList();
        var signals = Enumerable.Range(0, 40)
            .SelectMany(minute => jobs.Select(job => SignalFactory.Signal(job, minute + 1, SignalFactory.Start.AddMinutes(minute), "shadow", SignalFactory.Good)))
            .ToList();
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        var stored = 0L;
        foreach (var third in signals.Chunk(signals.Count / 3 + 1))
        {
            producer.Produce(third.Take(third.Length / 2));
            var before = stored;
            stored = await Eventually.Get(() => CountAsync("ingest-restart-%"), n => n > before, Timeout, "Ingest to store more signals");
            await pipeline.StopIngestAsync();
            producer.Produce(third.Skip(third.Length / 2));
            await pipeline.StartIngestAsync();
        }

        // Then every signal is stored exactly once, and each job's stream versions (signals and decisions) have no gaps
        await Eventually.Get(() => CountAsync("ingest-restart-%"), n => n >= signals.Count, Timeout, "all signals");
        Assert.Equal(signals.Count, await CountAsync("ingest-restart-%"));
        await using var command = pipeline.Database.CreateCommand(
            """
            select count(*) from (
                select stream_id from es.events where stream_id like 'ingest-restart-%'
                group by stream_id
                having count(*) filter (where type = 'signal-recorded/v1') <> 40
                    or count(distinct seq) <> 40 or min(version) <> 1 or max(version) <> count(*)) bad
            """);
        Assert.Equal(0L, (long)(await command.ExecuteScalarAsync())!);
    }

    async Task<long> CountAsync(string pattern)
    {
        await using var command = pipeline.Database.CreateCommand("select count(*) from es.events where stream_id like @p and type = @t");
        command.Parameters.AddWithValue("p", pattern);
        command.Parameters.AddWithValue("t", SignalRecorded.EventType);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    static string? Key(ConsumeResult<byte[]?, byte[]?> r) => r.Message.Key is { } k ? Encoding.UTF8.GetString(k) : null;

    static string Header(ConsumeResult<byte[]?, byte[]?> r, string name) =>
        Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes(name));

    static async Task RunKcatAsync(string arguments, string input)
    {
        await DebianPackages.RequireAsync();
        using var kcat = Process.Start(new ProcessStartInfo("kcat", arguments)
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        kcat.StandardInput.Write(input);
        kcat.StandardInput.Close();
        Assert.True(kcat.WaitForExit(30_000), "kcat did not finish");
        Assert.True(kcat.ExitCode == 0, "kcat failed: " + kcat.StandardError.ReadToEnd());
    }
}
