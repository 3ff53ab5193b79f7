using System.Globalization;
using System.Text;

namespace Streaming.Chaos.BadInput;

/// <summary>
/// Every kind of bad input the suite sends, from the wire contract (README, <c>contracts/schemas/job-signal.v1.json</c>)
/// and issue 13: malformed and mistyped JSON, every required field missing or of the wrong type, ids that are blank,
/// padded, too long, reserved or hold control characters, keys that do not match, event times that are not strict
/// RFC 3339, before 2000 or far ahead of the message's timestamp, invalid UTF-8 and lone surrogates, too deep or too
/// big, and a repeated seq with other content. Each must end on the dead-letter topic with a reason.
/// </summary>
public static class BadInputCatalogue
{
    static readonly string[] Fields = ["schema", "jobId", "emittedAt", "seq", "phase", "metrics", "labels", "correlationId"];

    public static IReadOnlyList<BadInputCase> Build(DateTimeOffset now)
    {
        var valid = now.AddHours(-1).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var cases = new List<BadInputCase>();

        void Add(string kind, string? key, byte[]? value) => cases.Add(new BadInputCase(kind, key is null ? null : Encoding.UTF8.GetBytes(key), value));
        void Text(string kind, string key, string value) => Add(kind, key, Encoding.UTF8.GetBytes(value));
        // A signal of job `kind` with one field replaced by raw JSON text (null: left out).
        void Field(string kind, string field, string? raw) =>
            Text(kind, Id(kind), Signal(Id(kind), valid, new Dictionary<string, string?> { [field] = raw }));
        // A signal whose job id (and key) is `jobId`, given as raw JSON text.
        void JobId(string kind, string rawJobId, string key) =>
            Text(kind, key, Signal(Id(kind), valid, new Dictionary<string, string?> { ["jobId"] = rawJobId }));

        Add("empty value", Id("empty"), []);
        Add("tombstone (null value)", Id("tombstone"), null);
        Text("not JSON", Id("not-json"), "hello, I am not JSON");
        Text("truncated JSON", Id("truncated"), Signal(Id("truncated"), valid)[..40]);
        Text("JSON array", Id("array"), "[1, 2, 3]");
        Text("JSON string", Id("string"), "\"a signal\"");
        Text("JSON number", Id("number"), "42");
        Text("JSON null", Id("null"), "null");
        Text("trailing garbage", Id("trailing"), Signal(Id("trailing"), valid) + " x");
        Text("two documents", Id("two-docs"), Signal(Id("two-docs"), valid) + Signal(Id("two-docs"), valid));
        Text("comment in JSON", Id("comment"), "/* c */" + Signal(Id("comment"), valid));
        Text("trailing comma", Id("comma"), Signal(Id("comma"), valid)[..^1] + ",}");
        Text("single-quoted strings", Id("quotes"), Signal(Id("quotes"), valid).Replace('"', '\''));
        Field("missing schema", "schema", null);
        Field("unsupported schema", "schema", "\"job-signal/v2\"");
        Field("schema not a string", "schema", "1");
        Field("missing jobId", "jobId", null);
        Field("jobId not a string", "jobId", "12");
        JobId("empty jobId", "\"\"", "");
        JobId("blank jobId", "\"   \"", "   ");
        JobId("tab-only jobId", "\"\\t\"", "\t");
        JobId("jobId with leading space", $"\" {Id("lead")}\"", " " + Id("lead"));
        JobId("jobId with trailing space", $"\"{Id("trail")} \"", Id("trail") + " ");
        JobId("jobId with a newline", $"\"{Id("nl")}\\nERR forged\"", Id("nl") + "\nERR forged");
        JobId("jobId with ESC and BEL", $"\"{Id("esc")}\\u001b[31m\\u0007\"", Id("esc") + "\u001b[31m\u0007");
        JobId("jobId with NUL", $"\"{Id("nul")}\\u0000x\"", Id("nul") + "\0x");
        JobId("jobId with DEL", $"\"{Id("del")}\\u007f\"", Id("del") + "\u007f");
        JobId("jobId of 300 characters", $"\"{new string('j', 300)}\"", new string('j', 300));
        foreach (var prefix in new[] { "policy:", "shadow-policy:", "shadow:", "known-issue:", "breaker:", "admission:", "breaker-count:" })
        {
            JobId($"reserved prefix {prefix}", $"\"{prefix}{Id("reserved")}\"", prefix + Id("reserved"));
        }
        Add("missing key", null, Encoding.UTF8.GetBytes(Signal(Id("no-key"), valid)));
        Text("key unlike jobId", "someone-else", Signal(Id("other-key"), valid));
        Text("key of 10,000 characters", new string('k', 10_000), Signal(Id("long-key"), valid));
        Text("key with a newline forging a log line", "x\n[00:00:00.000 ERR] FORGED-LOG-LINE", Signal(Id("forged"), valid));
        Field("missing emittedAt", "emittedAt", null);
        Field("emittedAt not RFC 3339 (11/22/2026 10:00)", "emittedAt", "\"11/22/2026 10:00\"");
        Field("emittedAt without offset", "emittedAt", $"\"{valid.TrimEnd('Z')}\"");
        Field("emittedAt date only", "emittedAt", $"\"{valid[..10]}\"");
        Field("emittedAt 0001-01-01", "emittedAt", "\"0001-01-01T00:00:00Z\"");
        Field("emittedAt before 2000", "emittedAt", "\"1999-12-31T23:59:59Z\"");
        Field("emittedAt 3 days ahead of the message", "emittedAt",
            $"\"{now.AddDays(3).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}\"");
        Field("emittedAt a number", "emittedAt", "1700000000");
        Field("emittedAt a word", "emittedAt", "\"yesterday\"");
        Field("missing seq", "seq", null);
        Field("negative seq", "seq", "-1");
        Field("fractional seq", "seq", "1.5");
        Field("seq a string", "seq", "\"7\"");
        Field("seq beyond 64 bits", "seq", "99999999999999999999");
        Field("missing phase", "phase", null);
        Field("empty phase", "phase", "\"\"");
        Field("phase with a control character", "phase", "\"shad\\u0007ow\"");
        Field("missing metrics", "metrics", null);
        Field("metrics an array", "metrics", "[1]");
        Field("metric a string", "metrics", "{\"error_rate\":\"low\"}");
        Field("metric a boolean", "metrics", "{\"error_rate\":true}");
        Field("metric overflowing a double", "metrics", "{\"error_rate\":1e400}");
        Field("metric NaN literal", "metrics", "{\"error_rate\":NaN}");
        Field("labels an array", "labels", "[\"a\"]");
        Field("label a number", "labels", "{\"team\":5}");
        Field("correlationId a number", "correlationId", "5");
        Add("invalid UTF-8 (FF FE) in jobId", Id("utf8-fffe"), Raw(Signal("\u0001", valid), [0xFF, 0xFE]));
        Add("invalid UTF-8 (C3 28) in jobId", Id("utf8-c328"), Raw(Signal("\u0001", valid), [0xC3, 0x28]));
        Add("overlong UTF-8 (C0 AF) in phase", Id("utf8-overlong"),
            Encoding.UTF8.GetBytes(Signal(Id("utf8-overlong"), valid, new Dictionary<string, string?> { ["phase"] = "\"sh\u0001\"" }))
                .Replace("\u0001", [0xC0, 0xAF]));
        JobId("lone high surrogate escaped in jobId", $"\"{Id("surrogate")}\\ud800x\"", Id("surrogate") + "?x");
        Field("lone low surrogate escaped in a label", "labels", "{\"team\":\"\\udc00\"}");
        Text("nesting 5,000 deep", Id("deep"), Signal(Id("deep"), valid)[..^1] + ",\"x\":" + new string('[', 5_000) + new string(']', 5_000) + "}");
        Text("value over 64 KiB", Id("huge"), Signal(Id("huge"), valid)[..^1] + ",\"padding\":\"" + new string('p', 70_000) + "\"}");

        var conflicting = Id("conflict");
        cases.Add(new BadInputCase(
            "repeated seq with other content",
            Encoding.UTF8.GetBytes(conflicting),
            Encoding.UTF8.GetBytes(Signal(conflicting, valid, new Dictionary<string, string?> { ["metrics"] = "{\"error_rate\":0.5}" })),
            [(Encoding.UTF8.GetBytes(conflicting), Encoding.UTF8.GetBytes(Signal(conflicting, valid)))]));
        var stale = Id("stale");
        cases.Add(new BadInputCase(
            "seq lower than one stored (out of order)",
            Encoding.UTF8.GetBytes(stale),
            Encoding.UTF8.GetBytes(Signal(stale, valid, new Dictionary<string, string?> { ["seq"] = "3" })),
            [(Encoding.UTF8.GetBytes(stale), Encoding.UTF8.GetBytes(Signal(stale, valid, new Dictionary<string, string?> { ["seq"] = "5" })))]));
        return cases;
    }

    /// <summary>A valid signal of <paramref name="jobId"/>, one a minute before <paramref name="emittedAt"/>: the good neighbour each bad one is followed by.</summary>
    public static (byte[] Key, byte[] Value) Neighbour(string jobId, string emittedAt) =>
        (Encoding.UTF8.GetBytes(jobId), Encoding.UTF8.GetBytes(Signal(jobId, emittedAt)));

    static string Id(string kind) => "bad-" + kind;

    // The fields of a valid signal as raw JSON text, some replaced (or, given null, left out).
    static string Signal(string jobId, string emittedAt, IReadOnlyDictionary<string, string?>? replaced = null)
    {
        var raw = new Dictionary<string, string>
        {
            ["schema"] = "\"job-signal/v1\"",
            ["jobId"] = $"\"{jobId}\"",
            ["emittedAt"] = $"\"{emittedAt}\"",
            ["seq"] = "1",
            ["phase"] = "\"shadow\"",
            ["metrics"] = "{\"checksum_mismatch_rate\":0.0001,\"landing_latency_p95_ms\":800,\"error_rate\":0.001}",
            ["labels"] = "{\"suite\":\"bad-input\"}",
            ["correlationId"] = "\"bad-input\"",
        };
        var parts = new List<string>();
        foreach (var field in Fields)
        {
            var value = replaced is not null && replaced.TryGetValue(field, out var replacement) ? replacement : raw[field];
            if (value is not null)
            {
                parts.Add($"\"{field}\":{value}");
            }
        }
        return "{" + string.Join(",", parts) + "}";
    }

    // The signal's bytes with the job id's placeholder character replaced by raw (invalid) bytes.
    static byte[] Raw(string signal, byte[] bytes) => Encoding.UTF8.GetBytes(signal).Replace("\u0001", bytes);

    static byte[] Replace(this byte[] text, string placeholder, byte[] bytes)
    {
        var marker = Encoding.UTF8.GetBytes(placeholder);
        var at = text.AsSpan().IndexOf(marker);
        return [.. text[..at], .. bytes, .. text[(at + marker.Length)..]];
    }
}
