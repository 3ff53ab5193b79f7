using System.Text;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.Signals;
using Streaming.Ingest.Appending;
using Streaming.Projections.Tail;

namespace Streaming.Tests.Ingest;

public sealed class StoredSignalBodyTests
{
    const string AsSent = """
        {"schema":"job-signal/v1","jobId":"cdc-17","emittedAt":"2026-11-22T10:00:00.1234567+02:00","seq":42,"phase":"shadow",
         "metrics":{"error_rate":0.0002,"landing_latency_p95_ms":850},"labels":{"team":"orders"},"correlationId":"c-1"}
        """;

    [Fact]
    public void A_signal_with_only_the_contracts_fields_is_stored_as_its_producer_sent_it()
    {
        var value = Encoding.UTF8.GetBytes(AsSent);

        var stored = SignalToAppend.Of(JobSignalReader.Read("cdc-17"u8, value), value);

        Assert.Equal(value, stored.Data.ToArray());
        Assert.Equal(("cdc-17", 42L, SignalRecorded.EventType), (stored.StreamId, stored.Seq, stored.Type));
        Assert.Equal(EventIds.ForSignal("cdc-17", 42), stored.EventId);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 8, 0, 0, TimeSpan.Zero).AddTicks(1_234_567), stored.EventTime);
    }

    [Fact]
    public void A_signal_is_stored_without_metadata()
    {
        var value = Encoding.UTF8.GetBytes(AsSent);

        var stored = SignalToAppend.Of(JobSignalReader.Read("cdc-17"u8, value), value);

        Assert.Null(stored.Metadata);
    }

    [Fact]
    public void A_signal_with_an_unknown_field_is_stored_rewritten_without_it()
    {
        var value = Encoding.UTF8.GetBytes(AsSent.TrimEnd()[..^1] + ",\"futureField\":{\"apiToken\":\"s3cr3t\"}}");

        var stored = SignalToAppend.Of(JobSignalReader.Read("cdc-17"u8, value), value);

        var body = Encoding.UTF8.GetString(stored.Data.Span);
        Assert.DoesNotContain("futureField", body, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", body, StringComparison.Ordinal);
        Assert.DoesNotContain("job-signal/v1", body, StringComparison.Ordinal);
    }

    [Fact]
    public void A_signal_with_a_secret_looking_label_is_never_stored_as_sent()
    {
        var value = Encoding.UTF8.GetBytes(AsSent.Replace("\"team\":\"orders\"", "\"db_password\":\"hunter2\"", StringComparison.Ordinal));

        var read = JobSignalReader.Read("cdc-17"u8, value);
        var stored = SignalToAppend.Of(read, value);

        Assert.Equal("hunter2", read.Signal!.Labels["db_password"]);
        Assert.False(read.StorableAsSent);
        Assert.NotEqual(value, stored.Data.ToArray());
    }

    [Theory]
    [InlineData("\"seq\":42", "\"seq\":42.0")]
    [InlineData("\"seq\":42", "\"seq\":4.2e1")]
    [InlineData("\"correlationId\":\"c-1\"", "\"correlationId\":\"c-1\",\"futureField\":[1,2]")]
    public void A_signal_stored_as_sent_and_one_rewritten_are_read_back_as_the_same_signal(string field, string written)
    {
        var asSent = Encoding.UTF8.GetBytes(AsSent);
        var other = Encoding.UTF8.GetBytes(AsSent.Replace(field, written, StringComparison.Ordinal));

        var raw = SignalToAppend.Of(JobSignalReader.Read("cdc-17"u8, asSent), asSent);
        var rewritten = SignalToAppend.Of(JobSignalReader.Read("cdc-17"u8, other), other);

        Assert.Equal(asSent, raw.Data.ToArray());
        Assert.NotEqual(other, rewritten.Data.ToArray());
        var decoder = new SignalDecoder();
        var a = decoder.Decode(raw.Data.Span, "cdc-17");
        var b = decoder.Decode(rewritten.Data.Span, "cdc-17");
        var c = ContractsJson.Deserialize<SignalRecorded>(Encoding.UTF8.GetString(raw.Data.Span));
        foreach (var signal in new[] { b, c })
        {
            Assert.Equal((a.JobId, a.Seq, a.Phase, a.CorrelationId), (signal.JobId, signal.Seq, signal.Phase, signal.CorrelationId));
            Assert.True(a.EmittedAt.EqualsExact(signal.EmittedAt), $"{a.EmittedAt:O} and {signal.EmittedAt:O}");
            Assert.Equal(a.Metrics.OrderBy(m => m.Key), signal.Metrics.OrderBy(m => m.Key));
            Assert.Equal(a.Labels.OrderBy(l => l.Key), signal.Labels.OrderBy(l => l.Key));
        }
        Assert.Equal(raw.EventTime, a.EmittedAt);
    }
}
