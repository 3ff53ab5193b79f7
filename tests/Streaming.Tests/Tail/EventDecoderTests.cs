using System.Text;
using System.Text.Json;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Projections.Tail;
using Xunit;

namespace Streaming.Tests.Tail;

/// <summary>Each stored body is decoded once, into its contract or the reason it cannot be; decoding never throws.</summary>
public sealed class EventDecoderTests
{
    static readonly DateTimeOffset At = new(2026, 3, 2, 9, 0, 0, TimeSpan.FromHours(1));

    static RecordedEvent Stored(string type, string data, string stream = "job-1") =>
        new(7, 3, stream, 2, Guid.NewGuid(), type, data, "{}", 2, At, At);

    static string SignalJson(string jobId = "job-1") => ContractsJson.Serialize(new SignalRecorded(
        jobId, 2, At, "shadow", new Dictionary<string, double> { ["error_rate"] = 0.25, ["lag"] = 3 },
        new Dictionary<string, string> { ["team"] = "orders", ["region"] = "eu" }, "corr-2"));

    [Fact]
    public void A_signal_is_read_as_the_contract_reads_it_with_its_names_and_labels_shared_between_signals()
    {
        var decoder = new EventDecoder();

        var first = decoder.Decode(Stored(SignalRecorded.EventType, SignalJson()), Encoding.UTF8.GetBytes(SignalJson())).Signal!;
        var second = decoder.Decode(Stored(SignalRecorded.EventType, SignalJson()), Encoding.UTF8.GetBytes(SignalJson())).Signal!;
        var expected = ContractsJson.Deserialize<SignalRecorded>(SignalJson());

        Assert.Equal((expected.JobId, expected.Seq, expected.EmittedAt, expected.EmittedAt.Offset, expected.Phase, expected.CorrelationId),
            (first.JobId, first.Seq, first.EmittedAt, first.EmittedAt.Offset, first.Phase, first.CorrelationId));
        Assert.Equal(expected.Metrics, first.Metrics);
        Assert.Equal(expected.Labels, first.Labels);
        Assert.Same(first.Labels, second.Labels);
        Assert.Same(first.Phase, second.Phase);
    }

    [Theory]
    [InlineData("\"text\"", "not a signal-recorded/v1")]
    [InlineData("[1, 2]", "not a signal-recorded/v1")]
    [InlineData("null", "null")]
    [InlineData("{\"unexpected\": true}", "jobId is missing")]
    [InlineData("{\"jobId\":\"job-1\",\"seq\":1,\"emittedAt\":\"0001-01-01T00:00:00Z\",\"phase\":\"shadow\",\"metrics\":{}}", "before 2000-01-01")]
    [InlineData("{\"jobId\":\"\\ud800x\",\"seq\":1,\"emittedAt\":\"2026-03-02T09:00:00Z\",\"phase\":\"shadow\",\"metrics\":{}}", "not a signal-recorded/v1")]
    [InlineData("{\"jobId\":\"job-1\",\"seq\":\"one\",\"emittedAt\":\"2026-03-02T09:00:00Z\",\"phase\":\"shadow\",\"metrics\":{}}", "not a signal-recorded/v1")]
    [InlineData("{\"jobId\":\"job-1\",\"seq\":1,\"emittedAt\":\"2026-03-02T09:00:00Z\",\"phase\":\"shadow\",\"metrics\":[1]}", "not a signal-recorded/v1")]
    [InlineData("{\"jobId\":\"job-1\",\"seq\":1,\"emittedAt\":\"2026-03-02T09:00:00Z\",\"phase\":\"shadow\",\"metrics\":{\"a\":1e999}}", "not a finite number")]
    [InlineData("{\"jobId\":\"job-1\",\"seq\":1,\"emittedAt\":\"2026-03-02T09:00:00Z\",\"phase\":\"shadow\"}", "metrics are missing")]
    [InlineData("{\"jobId\":\"job-1\",\"seq\":1,\"emittedAt\":\"2026-03-02T09:00:00Z\",\"phase\":\"shadow\",\"metrics\":{},\"labels\":{\"team\":null}}", "a label has no value")]
    public void A_signal_body_that_breaks_the_contract_is_undecodable_with_the_reason(string data, string reason)
    {
        var decoded = EventDecoder.Decode(Stored(SignalRecorded.EventType, data));

        var undecodable = Assert.IsType<UndecodableBody>(decoded.Body);
        Assert.Contains(reason, undecodable.Reason, StringComparison.Ordinal);
        Assert.Equal(data, decoded.Event.Data);
        var failure = Assert.Throws<UndecodableEventException>(() => decoded.Read<SignalRecorded>());
        Assert.Contains(reason, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Other_events_keep_their_text_and_an_unknown_type_has_no_body()
    {
        var change = EventDecoder.Decode(Stored(PhaseChanged.EventType, """{"eventId":"00000000-0000-0000-0000-000000000001","jobId":"job-1"}"""));
        var broken = EventDecoder.Decode(Stored(PhaseChanged.EventType, "[]"));
        var unknown = EventDecoder.Decode(Stored("something-else/v1", "{}"));

        Assert.Equal("job-1", change.Read<PhaseChanged>().JobId);
        Assert.StartsWith("{\"eventId\"", change.Event.Data, StringComparison.Ordinal);
        Assert.IsType<UndecodableBody>(broken.Body);
        Assert.Null(unknown.Body);
    }

    [Fact]
    public void Mutated_signal_bodies_never_throw_and_whatever_is_accepted_is_what_the_contract_reads()
    {
        // Seeded, so a failure can be replayed: bytes of a valid body flipped, dropped or duplicated, many times over.
        var random = new Random(1402);
        var decoder = new EventDecoder();
        var valid = Encoding.UTF8.GetBytes(SignalJson());
        for (var round = 0; round < 5_000; round++)
        {
            var body = Mutate(valid, random);
            var decoded = decoder.Decode(Stored(SignalRecorded.EventType, ""), body);
            if (decoded.Body is not SignalRecorded signal)
            {
                Assert.IsType<UndecodableBody>(decoded.Body);
                continue;
            }
            var expected = JsonSerializer.Deserialize(body, ContractsJson.Default.SignalRecorded)!;
            Assert.Equal((expected.JobId, expected.Seq, expected.EmittedAt, expected.Phase, expected.CorrelationId),
                (signal.JobId, signal.Seq, signal.EmittedAt, signal.Phase, signal.CorrelationId));
            Assert.Equal(expected.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal), signal.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal));
            Assert.Equal((expected.Labels ?? new Dictionary<string, string>()).OrderBy(l => l.Key, StringComparer.Ordinal), signal.Labels.OrderBy(l => l.Key, StringComparer.Ordinal));
        }
    }

    static byte[] Mutate(byte[] valid, Random random)
    {
        var bytes = new List<byte>(valid);
        for (var changes = random.Next(1, 4); changes > 0 && bytes.Count > 0; changes--)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(4))
            {
                case 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes.RemoveAt(at);
                    break;
                case 2:
                    bytes.Insert(at, bytes[random.Next(bytes.Count)]);
                    break;
                default:
                    var json = "{}[]\",:0-e.\\u"u8;
                    bytes[at] = json[random.Next(json.Length)];
                    break;
            }
        }
        return [.. bytes];
    }
}
