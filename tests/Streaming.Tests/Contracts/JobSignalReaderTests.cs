using System.Text;
using Streaming.Contracts.Signals;

namespace Streaming.Tests.Contracts;

public sealed class JobSignalReaderTests
{
    const string Valid = """
        { "schema": "job-signal/v1", "jobId": "cdc-orders-eu-17", "emittedAt": "2026-11-22T10:00:00Z",
          "seq": 1042, "phase": "shadow",
          "metrics": { "checksum_mismatch_rate": 0.0002, "landing_latency_p95_ms": 850, "error_rate": 0.0 },
          "labels": { "team": "orders", "region": "eu" }, "correlationId": "c-1", "futureField": { "x": 1 } }
        """;

    [Fact]
    public void Reads_the_documented_example_and_ignores_unknown_fields()
    {
        var result = Read("cdc-orders-eu-17", Valid);

        Assert.Null(result.RejectionReason);
        var signal = result.Signal!;
        Assert.Equal(("cdc-orders-eu-17", 1042L, "shadow", "c-1"), (signal.JobId, signal.Seq, signal.Phase, signal.CorrelationId));
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero), signal.EmittedAt);
        Assert.Equal(850, signal.Metrics["landing_latency_p95_ms"]);
        Assert.Equal("eu", signal.Labels["region"]);
    }

    [Theory]
    [InlineData("{not json", "malformed JSON")]
    [InlineData("[1,2]", "value must be a JSON object")]
    [InlineData("""{"jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{}}""", "schema is required")]
    [InlineData("""{"schema":"job-signal/v2","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{}}""", "unsupported schema 'job-signal/v2'")]
    [InlineData("""{"schema":"job-signal/v1","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{}}""", "jobId is required")]
    [InlineData("""{"schema":"job-signal/v1","jobId":"j","emittedAt":"yesterday","seq":1,"phase":"shadow","metrics":{}}""", "emittedAt 'yesterday' is not an ISO-8601 timestamp")]
    [InlineData("""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":-1,"phase":"shadow","metrics":{}}""", "seq must be a whole number >= 0")]
    [InlineData("""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":1.5,"phase":"shadow","metrics":{}}""", "seq must be a whole number >= 0")]
    [InlineData("""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":1,"metrics":{}}""", "phase is required")]
    [InlineData("""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow"}""", "metrics must be a JSON object")]
    [InlineData("""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{"error_rate":"high"}}""", "metric 'error_rate' must be a finite number")]
    [InlineData("""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{},"labels":{"team":1}}""", "label 'team' must be a string")]
    [InlineData("""{"schema":"job-signal/v1","jobId":"j\u0000","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{}}""", "jobId must not contain NUL")]
    [InlineData("""{"schema":"job-signal/v1","jobId":"policy:cdc-migration","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{}}""", "jobId must not start with 'policy:'")]
    [InlineData("""{"schema":"job-signal/v1","jobId":"known-issue:INC-1","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{}}""", "jobId must not start with 'known-issue:'")]
    public void Rejects_bad_values_with_a_reason_a_producer_can_act_on(string value, string reason)
    {
        var result = Read("j", value);

        Assert.Null(result.Signal);
        Assert.StartsWith(reason, result.RejectionReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_a_key_that_is_not_the_job_id()
    {
        Assert.Equal("key 'other' does not match jobId 'cdc-orders-eu-17'", Read("other", Valid).RejectionReason);
    }

    [Fact]
    public void Rejects_a_message_without_key_and_an_empty_value()
    {
        Assert.StartsWith("missing key", JobSignalReader.Read([], Encoding.UTF8.GetBytes(Valid), keyPresent: false).RejectionReason, StringComparison.Ordinal);
        Assert.StartsWith("empty value", Read("j", "").RejectionReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_an_oversized_value()
    {
        var huge = Valid.Replace("\"c-1\"", "\"" + new string('x', JobSignalReader.MaxValueBytes) + "\"", StringComparison.Ordinal);
        Assert.Contains("more than the", Read("cdc-orders-eu-17", huge).RejectionReason, StringComparison.Ordinal);
    }

    static SignalReadResult Read(string key, string value) => JobSignalReader.Read(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(value));
}
