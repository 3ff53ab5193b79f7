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
    [InlineData("""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":7,"phase":"shadow","metrics":{"m":1},"labels":{}}""")]
    [InlineData("""{ "schema": "job-signal/v1", "jobId": "j", "emittedAt": "2026-11-22T12:00:00.1234567+02:00", "seq": 7, "phase": "shadow", "metrics": {}, "labels": { "team": "a" }, "correlationId": null }""")]
    public void A_value_holding_only_the_contracts_fields_as_stored_signals_are_read_may_be_stored_as_sent(string value)
    {
        var result = Read("j", value);

        Assert.NotNull(result.Signal);
        Assert.True(result.StorableAsSent);
    }

    [Theory]
    [InlineData("""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":7,"phase":"shadow","metrics":{},"labels":{},"extra":1}""")]
    [InlineData("""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":7,"phase":"shadow","metrics":{},"labels":{"api_token":"x"}}""")]
    [InlineData("""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":7.0,"phase":"shadow","metrics":{},"labels":{}}""")]
    [InlineData("""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":7,"phase":"shadow","metrics":{}}""")]
    [InlineData("""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":7,"phase":"shadow","metrics":{},"labels":null}""")]
    [InlineData("""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22t10:00:00z","seq":7,"phase":"shadow","metrics":{},"labels":{}}""")]
    public void A_value_with_more_than_the_contracts_fields_or_read_differently_by_stored_signals_readers_is_not_stored_as_sent(string value)
    {
        var result = Read("j", value);

        Assert.NotNull(result.Signal);
        Assert.False(result.StorableAsSent);
    }

    [Theory]
    [InlineData("{not json", "malformed JSON")]
    [InlineData("[1,2]", "value must be a JSON object")]
    [InlineData("""{"jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{}}""", "schema is required")]
    [InlineData("""{"schema":"job-signal/v2","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{}}""", "unsupported schema 'job-signal/v2'")]
    [InlineData("""{"schema":"job-signal/v1","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{}}""", "jobId is required")]
    [InlineData("""{"schema":"job-signal/v1","jobId":"j","emittedAt":"yesterday","seq":1,"phase":"shadow","metrics":{}}""", "emittedAt 'yesterday' is not an RFC 3339 timestamp")]
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

    [Theory]
    [InlineData("metrics", 101, "0", "metrics holds 101 metrics; at most 100")]
    [InlineData("labels", 51, "\"x\"", "labels holds 51 labels; at most 50")]
    public void Rejects_a_signal_with_more_metrics_or_labels_than_the_cap_though_it_is_small(string field, int count, string value, string reason)
    {
        var entries = string.Join(",", Enumerable.Range(0, count).Select(i => $"\"m{i}\":{value}"));
        var metrics = field == "metrics" ? entries : "";
        var labels = field == "labels" ? entries : "";

        var result = Read("j", """{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{"""
            + metrics + """},"labels":{""" + labels + "}}");

        Assert.Equal(reason, result.RejectionReason);
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

    // Issue 13: bytes that are not UTF-8 and escaped lone surrogates threw InvalidOperationException out of Read.
    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFE })]
    [InlineData(new byte[] { 0xC3, 0x28 })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    [InlineData(new byte[] { 0xC0, 0xAF })]
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 })]
    [InlineData(new byte[] { 0xE2, 0x82 })]
    public void Rejects_bytes_that_are_not_UTF8_in_any_string_without_throwing(byte[] bad)
    {
        foreach (var field in Fields)
        {
            var result = JobSignalReader.Read("j"u8, Encoding.UTF8.GetBytes(WithField(field, "@@")).Replace("@@"u8, bad));

            Assert.Null(result.Signal);
            Assert.StartsWith("value is not valid UTF-8", result.RejectionReason, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("\\ud800x")]
    [InlineData("\\udc00")]
    [InlineData("a\\ud83d")]
    [InlineData("\\ud83d\\u0041")]
    [InlineData("\\\\\\ud800")]
    public void Rejects_an_escaped_lone_surrogate_in_any_string_without_throwing(string escaped)
    {
        foreach (var field in Fields)
        {
            var result = Read("j", WithField(field, escaped));

            Assert.Null(result.Signal);
            Assert.Contains("is not valid Unicode: it has an escaped lone surrogate", result.RejectionReason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Reads_an_escaped_surrogate_pair_and_an_escaped_backslash_before_u()
    {
        var result = Read("j", WithField("label", "\\ud83d\\ude00 \\\\ud800"));

        Assert.Equal("\U0001F600 \\ud800", result.Signal!.Labels["l"]);
    }

    [Theory]
    [InlineData("11/22/2026 10:00")]
    [InlineData("2026-11-22T10:00:00")]
    [InlineData("2026-11-22 10:00:00Z")]
    [InlineData("2026-11-22T10:00Z")]
    [InlineData("2026-11-22T10:00:00.Z")]
    [InlineData("2026-11-22T10:00:00.1234567890Z")]
    [InlineData("2026-11-22T10:00:00+0100")]
    [InlineData("2026-11-22T10:00:00+14:01")]
    [InlineData("2026-11-22T24:00:00Z")]
    [InlineData("2026-11-22T23:59:60Z")]
    [InlineData("2026-02-29T10:00:00Z")]
    [InlineData("2026-11-31T10:00:00Z")]
    [InlineData("+2026-11-22T10:00:00Z")]
    [InlineData("2026-11-22T10:00:00Z ")]
    [InlineData("２０２６-11-22T10:00:00Z")]
    public void Rejects_an_emittedAt_that_is_not_strict_RFC_3339(string emittedAt)
    {
        var result = Read("j", Signal(emittedAt: emittedAt));

        Assert.StartsWith($"emittedAt '{emittedAt}' is not an RFC 3339 timestamp", result.RejectionReason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2026-11-22T10:00:00Z", "2026-11-22T10:00:00.0000000+00:00")]
    [InlineData("2026-11-22t10:00:00z", "2026-11-22T10:00:00.0000000+00:00")]
    [InlineData("2026-11-22T11:30:00+01:30", "2026-11-22T11:30:00.0000000+01:30")]
    [InlineData("2026-11-22T10:00:00-00:00", "2026-11-22T10:00:00.0000000+00:00")]
    [InlineData("2024-02-29T23:59:59.123456789-14:00", "2024-02-29T23:59:59.1234567-14:00")]
    [InlineData("2000-01-01T00:00:00Z", "2000-01-01T00:00:00.0000000+00:00")]
    public void Reads_an_RFC_3339_emittedAt_with_its_offset(string emittedAt, string expected)
    {
        var result = Read("j", Signal(emittedAt: emittedAt));

        Assert.Equal(expected, result.Signal!.EmittedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("0001-01-01T00:00:00Z")]
    [InlineData("1999-12-31T23:59:59.9999999Z")]
    [InlineData("2000-01-01T00:30:00+01:00")]
    [InlineData("0001-01-01T00:00:00+14:00")]
    public void Rejects_an_emittedAt_before_2000(string emittedAt)
    {
        Assert.Equal($"emittedAt {emittedAt} is before 2000-01-01T00:00:00Z", Read("j", Signal(emittedAt: emittedAt)).RejectionReason);
    }

    [Fact]
    public void Rejects_an_emittedAt_further_ahead_of_the_message_timestamp_than_the_skew_allows()
    {
        var limit = new EventTimeLimit(new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero), TimeSpan.FromHours(24));

        var atTheLimit = JobSignalReader.Read("j"u8, Encoding.UTF8.GetBytes(Signal(emittedAt: "2026-11-23T11:00:00+01:00")), limit: limit);
        var beyond = JobSignalReader.Read("j"u8, Encoding.UTF8.GetBytes(Signal(emittedAt: "2026-11-23T10:00:00.0000001Z")), limit: limit);

        var pastYear9999 = JobSignalReader.Read("j"u8, Encoding.UTF8.GetBytes(Signal(emittedAt: "9999-12-31T23:59:59-14:00")), limit: limit);

        Assert.NotNull(atTheLimit.Signal);
        Assert.Equal(
            "emittedAt 2026-11-23T10:00:00.0000001Z is more than 1.00:00:00 ahead of the message's timestamp 2026-11-22T10:00:00.000Z",
            beyond.RejectionReason);
        Assert.Equal("emittedAt 9999-12-31T23:59:59-14:00 is after 9999-12-31T23:59:59.9999999Z", pastYear9999.RejectionReason);
    }

    [Theory]
    [InlineData("jobId", "a\\nb", "jobId must not contain NUL, control, format or line-separator characters (found U+000A at position 1)")]
    [InlineData("jobId", "\\u001B[31mred", "jobId must not contain NUL, control, format or line-separator characters (found U+001B at position 0)")]
    [InlineData("jobId", "bell\\u0007", "jobId must not contain NUL, control, format or line-separator characters (found U+0007 at position 4)")]
    [InlineData("jobId", "del\\u007F", "jobId must not contain NUL, control, format or line-separator characters (found U+007F at position 3)")]
    [InlineData("jobId", "c1\\u0085", "jobId must not contain NUL, control, format or line-separator characters (found U+0085 at position 2)")]
    [InlineData("jobId", "ls\\u2028", "jobId must not contain NUL, control, format or line-separator characters (found U+2028 at position 2)")]
    [InlineData("jobId", "\\u202Eevil", "jobId must not contain NUL, control, format or line-separator characters (found U+202E at position 0)")]
    [InlineData("jobId", "zero\\u200Bwidth", "jobId must not contain NUL, control, format or line-separator characters (found U+200B at position 4)")]
    [InlineData("jobId", "bom\\uFEFF", "jobId must not contain NUL, control, format or line-separator characters (found U+FEFF at position 3)")]
    [InlineData("jobId", "tag\\uDB40\\uDC01", "jobId must not contain NUL, control, format or line-separator characters (found U+E0001 at position 3)")]
    [InlineData("jobId", "   ", "jobId must not be blank")]
    [InlineData("jobId", "\\u00A0\\u3000", "jobId must not be blank")]
    [InlineData("jobId", " job", "jobId must not start or end with whitespace")]
    [InlineData("jobId", "job\\u00A0", "jobId must not start or end with whitespace")]
    [InlineData("jobId", "", "jobId must not be empty")]
    [InlineData("phase", "shadow\\r\\n", "phase must not contain NUL, control, format or line-separator characters (found U+000D at position 6)")]
    [InlineData("phase", " shadow", "phase must not start or end with whitespace")]
    [InlineData("metricName", "error\\nrate", "metric name 'error\\nrate' must not contain NUL, control, format or line-separator characters (found U+000A at position 5)")]
    [InlineData("metricName", " ", "metric name ' ' must not be blank")]
    [InlineData("labelName", "team\\t", "label name 'team\\t' must not contain NUL, control, format or line-separator characters (found U+0009 at position 4)")]
    [InlineData("label", "eu\\u001B", "label 'l' value must not contain NUL, control, format or line-separator characters (found U+001B at position 2)")]
    [InlineData("correlationId", "c\\n1", "correlationId must not contain NUL, control, format or line-separator characters (found U+000A at position 1)")]
    public void Rejects_names_with_control_format_or_separator_characters_and_blank_or_padded_names(string field, string text, string reason)
    {
        Assert.Equal(reason, Read("j", WithField(field, text)).RejectionReason);
    }

    [Fact]
    public void Names_and_texts_have_bounded_lengths_counted_in_code_points()
    {
        Assert.NotNull(Read("j", WithField("phase", new string('p', 256))).Signal);
        Assert.Equal("phase must be at most 256 characters", Read("j", WithField("phase", new string('p', 257))).RejectionReason);
        Assert.NotNull(Read("j", WithField("phase", string.Concat(Enumerable.Repeat("\\ud83d\\ude00", 256)))).Signal);
        Assert.Equal("label 'l' value must be at most 1024 characters", Read("j", WithField("label", new string('v', 1025))).RejectionReason);
        Assert.Equal("correlationId must be at most 256 characters", Read("j", WithField("correlationId", new string('c', 257))).RejectionReason);
    }

    [Theory]
    [InlineData("""{"schema":"job-signal/v1","jobId":"j","jobId":"k","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{}}""", "field 'jobId' appears more than once")]
    [InlineData("""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{"a":1,"a":2}}""", "metric 'a' appears more than once")]
    [InlineData("""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{},"labels":{"a":"x","\u0061":"y"}}""", "label 'a' appears more than once")]
    [InlineData("""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":9223372036854775808,"phase":"shadow","metrics":{}}""", "seq must be a whole number >= 0")]
    [InlineData("""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":1e19,"phase":"shadow","metrics":{}}""", "seq must be a whole number >= 0")]
    [InlineData("""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":"1","phase":"shadow","metrics":{}}""", "seq must be a whole number >= 0")]
    [InlineData("""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{"m":1e400}}""", "metric 'm' must be a finite number")]
    [InlineData("""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{"m":-1.7976931348623159e308}}""", "metric 'm' must be a finite number")]
    public void Rejects_repeated_names_and_numbers_out_of_range(string value, string reason)
    {
        Assert.StartsWith(reason, Read("j", value).RejectionReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_nesting_deeper_than_64_levels_and_a_byte_order_mark()
    {
        static string Nested(int arrays) =>
            """{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{},"x":"""
            + new string('[', arrays) + "1" + new string(']', arrays) + "}";

        Assert.NotNull(Read("j", Nested(63)).Signal);
        Assert.StartsWith("malformed JSON: The maximum configured depth of 64 has been exceeded", Read("j", Nested(64)).RejectionReason, StringComparison.Ordinal);
        Assert.StartsWith("malformed JSON", JobSignalReader.Read("j"u8, [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(Signal())]).RejectionReason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("7", 7L)]
    [InlineData("7.0", 7L)]
    [InlineData("7e0", 7L)]
    [InlineData("0.7E1", 7L)]
    [InlineData("700e-2", 7L)]
    [InlineData("-0", 0L)]
    [InlineData("0e999999999999999999", 0L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("9.223372036854775807e18", long.MaxValue)]
    public void Reads_any_JSON_number_that_is_a_whole_number_as_seq(string seq, long expected)
    {
        Assert.Equal(expected, Read("j", Signal(seq: seq)).Signal!.Seq);
    }

    [Fact]
    public void Compares_the_key_with_the_job_ids_bytes_and_escapes_it_in_the_reason()
    {
        var replacementJobId = JobSignalReader.Read([0xFF], Encoding.UTF8.GetBytes(WithField("jobId", "\\uFFFD")));
        var newlineKey = Read("j\n[12:00:00 ERR] forged", Signal());

        Assert.Equal("key '\\xFF' does not match jobId '\uFFFD'", replacementJobId.RejectionReason);
        Assert.Equal("key 'j\\n[12:00:00 ERR] forged' does not match jobId 'j'", newlineKey.RejectionReason);
    }

    static readonly string[] Fields = ["jobId", "phase", "label", "labelName", "metricName", "unknown", "correlationId"];

    static string Signal(string emittedAt = "2026-11-22T10:00:00Z", string seq = "1") =>
        $$$"""{"schema":"job-signal/v1","jobId":"j","emittedAt":"{{{emittedAt}}}","seq":{{{seq}}},"phase":"shadow","metrics":{"m":1},"labels":{"l":"v"}}""";

    // A valid signal of job j with text (JSON string content, escapes allowed) in the named place.
    static string WithField(string field, string text) => field switch
    {
        "jobId" => $$$"""{"schema":"job-signal/v1","jobId":"{{{text}}}","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{}}""",
        "phase" => $$$"""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"{{{text}}}","metrics":{}}""",
        "label" => $$$"""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{},"labels":{"l":"{{{text}}}"}}""",
        "labelName" => $$$"""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{},"labels":{"{{{text}}}":"v"}}""",
        "metricName" => $$$"""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{"{{{text}}}":1}}""",
        "unknown" => $$$"""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{},"future":{"x":["{{{text}}}"]}}""",
        "correlationId" => $$$"""{"schema":"job-signal/v1","jobId":"j","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{},"correlationId":"{{{text}}}"}""",
        _ => throw new ArgumentOutOfRangeException(nameof(field)),
    };

    static SignalReadResult Read(string key, string value) => JobSignalReader.Read(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(value));
}

static class ByteReplacement
{
    public static byte[] Replace(this byte[] bytes, ReadOnlySpan<byte> marker, byte[] with)
    {
        var at = bytes.AsSpan().IndexOf(marker);
        return [.. bytes.AsSpan(0, at), .. with, .. bytes.AsSpan(at + marker.Length)];
    }
}
