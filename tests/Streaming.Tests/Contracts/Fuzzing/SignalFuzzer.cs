using System.Globalization;
using System.Text;

namespace Streaming.Tests.Contracts.Fuzzing;

/// <summary>One generated message: its key (null: none), value, and the Kafka timestamp the skew rule measures against.</summary>
sealed record FuzzCase(string Strategy, byte[]? Key, byte[] Value, DateTimeOffset? MessageTime);

/// <summary>
/// Generates <c>job-signals</c> messages from one seed: random bytes, valid signals written in many ways, valid signals
/// with bytes mutated, fields of every JSON type, extreme numbers, deep nesting, Unicode edges and edge timestamps.
/// </summary>
sealed class SignalFuzzer(Random random)
{
    static readonly int[] EdgeCodePoints =
    [
        0x00, 0x01, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1B, 0x1F, 0x20, 0x22, 0x27, 0x2F, 0x3A, 0x5C, 0x7F, 0x80, 0x85, 0x9F,
        0xA0, 0xAD, 0xE9, 0x301, 0x61C, 0x180E, 0x1680, 0x2000, 0x200A, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A,
        0x202E, 0x202F, 0x205F, 0x2060, 0x2066, 0x2069, 0x3000, 0x65E5, 0xD7FF, 0xE000, 0xF8FF, 0xFEFF, 0xFFF9, 0xFFFD, 0xFFFE, 0xFFFF,
        0x10000, 0x110BD, 0x1D173, 0x1F600, 0xE0001, 0xE0041, 0xE007F, 0xF0000, 0x10FFFF,
        0xD800, 0xDBFF, 0xDC00, 0xDFFF,
    ];

    static readonly string[] Phases = ["shadow", "reverse_shadow", "cleanup", "done", "Phase 2", "日本", "x"];
    static readonly string[] Reserved = ["policy:", "shadow-policy:", "shadow:", "known-issue:", "breaker:", "pause:", "admission:", "breaker-count:"];

    static readonly string[] ExtremeNumbers =
    [
        "0", "-0", "0.0", "-0.0", "1", "-1", "7.0", "7e0", "7E+0", "0.7e1", "700e-2", "1.5", "1e-1", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "9.223372036854775807e18", "9.223372036854775808e18", "92233720368547758070e-1", "1e18", "1e19", "1e20",
        "0e999999999999999999999", "1e999999999999999999999", "1e-999999999999999999999", "123456789012345678901234567890",
        "1.7976931348623157e308", "-1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
        "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791",
        "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792",
        "1e308", "1e309", "-1e400", "4.9e-324", "2.4e-324", "1e-400", "0.000000000000000000000000000001e30", "1" + new string('0', 400) + "e-400",
        "01", "1.", ".5", "+1", "1e", "1e+", "--1", "0x10", "NaN", "Infinity", "-Infinity", "1_000", "１",
    ];

    static readonly string[] EdgeTimes =
    [
        "2026-11-22T10:00:00Z", "2026-11-22t10:00:00z", "2026-11-22T10:00:00+01:00", "2026-11-22T10:00:00-00:00", "2026-11-22T10:00:00+14:00",
        "2026-11-22T10:00:00-14:00", "2026-11-22T10:00:00+14:01", "2026-11-22T10:00:00+13:59", "2026-11-22T10:00:00+24:00", "2026-11-22T10:00:00+01:60",
        "2026-11-22T10:00:00.1Z", "2026-11-22T10:00:00.123456789Z", "2026-11-22T10:00:00.1234567890Z", "2026-11-22T10:00:00.Z",
        "2026-11-22T23:59:60Z", "2026-11-22T24:00:00Z", "2026-11-22T10:60:00Z", "2024-02-29T00:00:00Z", "2026-02-29T00:00:00Z",
        "2100-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z",
        "2026-11-00T00:00:00Z", "2000-01-01T00:00:00Z", "1999-12-31T23:59:59.9999999Z", "1999-12-31T23:59:59.99999999Z",
        "2000-01-01T00:00:00+00:01", "2000-01-01T00:59:59+01:00", "1999-12-31T23:00:00-01:00", "0001-01-01T00:00:00Z", "0000-01-01T00:00:00Z",
        "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59.9999999Z", "9999-12-31T23:59:59-14:00",
        "11/22/2026 10:00", "2026-11-22 10:00:00Z", "2026-11-22T10:00:00", "2026-11-22T10:00Z", "20261122T100000Z", "2026-11-22T10:00:00+0100",
        "2026-11-22T10:00:00Z\n", " 2026-11-22T10:00:00Z", "２０２６-11-22T10:00:00Z", "2026-11-22T10:00:00.000Z", "",
    ];

    public FuzzCase Next()
    {
        var pick = random.Next(100);
        return pick switch
        {
            < 6 => RandomBytes(),
            < 20 => Written("valid", Signal()),
            < 40 => Mutated(),
            < 54 => Written("field types", WithFieldTypes(Signal())),
            < 64 => Written("numbers", WithNumbers(Signal())),
            < 70 => Written("nesting", WithNesting(Signal())),
            < 88 => Written("unicode", WithUnicode(Signal())),
            _ => Written("times", WithTimes(Signal())),
        };
    }

    // A message as a job writes it: the members of its value, its key, its timestamp.
    sealed class Draft
    {
        public List<(string Name, Node Value)> Members { get; } = [];
        public string JobId { get; set; } = "";
        public byte[]? Key { get; set; }
        public DateTimeOffset? MessageTime { get; set; }

        public void Set(string name, Node value)
        {
            var index = Members.FindIndex(m => m.Name == name);
            if (index >= 0)
            {
                Members[index] = (name, value);
            }
            else
            {
                Members.Add((name, value));
            }
        }
    }

    abstract record Node;

    sealed record Str(string Text) : Node;

    sealed record Raw(string Json) : Node;

    sealed record Obj(List<(string Name, Node Value)> Members) : Node;

    sealed record Arr(List<Node> Items) : Node;

    Draft Signal()
    {
        var draft = new Draft();
        var jobId = random.Next(10) switch
        {
            0 => "日本-job-" + random.Next(100),
            1 => "job 😀 " + random.Next(100),
            2 => "a",
            _ => "job-" + random.Next(100_000),
        };
        var at = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks((long)(random.NextDouble() * TimeSpan.FromDays(365.25 * 30).Ticks));
        draft.JobId = jobId;
        draft.Key = Encoding.UTF8.GetBytes(jobId);
        draft.MessageTime = random.Next(5) == 0 ? null : at.AddSeconds(random.Next(-3 * 86_400, 2 * 86_400));
        draft.Set("schema", new Str("job-signal/v1"));
        draft.Set("jobId", new Str(jobId));
        draft.Set("emittedAt", new Str(Rfc3339(at)));
        draft.Set("seq", new Raw(random.Next(4) == 0 ? random.NextInt64().ToString(CultureInfo.InvariantCulture) : random.Next(1_000_000).ToString(CultureInfo.InvariantCulture)));
        draft.Set("phase", new Str(Phases[random.Next(Phases.Length)]));
        var metrics = new List<(string, Node)>();
        for (var i = random.Next(5); i > 0; i--)
        {
            metrics.Add(($"metric_{random.Next(1000)}_{i}", new Raw(Number())));
        }
        draft.Set("metrics", new Obj(metrics));
        switch (random.Next(4))
        {
            case 0:
                break;
            case 1:
                draft.Set("labels", new Raw("null"));
                break;
            default:
                draft.Set("labels", new Obj([.. Enumerable.Range(0, random.Next(4)).Select(i => ($"label{i}", (Node)new Str("value " + random.Next(100))))]));
                break;
        }
        if (random.Next(3) == 0)
        {
            draft.Set("correlationId", random.Next(4) == 0 ? new Raw("null") : new Str("corr-" + random.Next(1000)));
        }
        if (random.Next(4) == 0)
        {
            draft.Set("future" + random.Next(3), AnyValue(3));
        }
        Shuffle(draft.Members);
        return draft;
    }

    string Rfc3339(DateTimeOffset at)
    {
        var offset = TimeSpan.FromMinutes(random.Next(5) == 0 ? random.Next(-14 * 60, 14 * 60 + 1) : 0);
        var local = at.ToOffset(offset);
        var fraction = random.Next(4) switch
        {
            0 => "",
            1 => "." + local.ToString("fff", CultureInfo.InvariantCulture),
            2 => "." + local.ToString("fffffff", CultureInfo.InvariantCulture) + random.Next(100).ToString("00", CultureInfo.InvariantCulture),
            _ => "." + local.ToString("FFFFFFF", CultureInfo.InvariantCulture).PadRight(1, '0'),
        };
        var zone = offset == TimeSpan.Zero && random.Next(2) == 0 ? (random.Next(4) == 0 ? "z" : "Z") : local.ToString("zzz", CultureInfo.InvariantCulture);
        var t = random.Next(10) == 0 ? "t" : "T";
        return local.ToString($"yyyy-MM-dd'{t}'HH:mm:ss", CultureInfo.InvariantCulture) + fraction + zone;
    }

    string Number() => random.Next(6) switch
    {
        0 => random.Next(1000).ToString(CultureInfo.InvariantCulture),
        1 => (random.NextDouble() * Math.Pow(10, random.Next(-10, 10))).ToString("R", CultureInfo.InvariantCulture),
        2 => (-random.NextDouble()).ToString("E3", CultureInfo.InvariantCulture),
        3 => BitConverter.Int64BitsToDouble(random.NextInt64()) is var d && double.IsFinite(d) ? d.ToString("R", CultureInfo.InvariantCulture) : "1",
        _ => random.NextDouble().ToString("R", CultureInfo.InvariantCulture),
    };

    FuzzCase RandomBytes()
    {
        var bytes = new byte[random.Next(200)];
        const string alphabet = "{}[]\":,0123456789.-+eE \\u\"tfnrlsa";
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = random.Next(3) == 0 ? (byte)random.Next(256) : (byte)alphabet[random.Next(alphabet.Length)];
        }
        return new FuzzCase("random bytes", random.Next(3) == 0 ? null : RandomKey(), bytes, random.Next(2) == 0 ? null : DateTimeOffset.UnixEpoch.AddDays(random.Next(20_000)));
    }

    FuzzCase Mutated()
    {
        var written = Written("mutated", Signal());
        var bytes = written.Value.ToList();
        for (var n = random.Next(1, 4); n > 0 && bytes.Count > 0; n--)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(7))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 2:
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, random.Next(1, 6)));
                    break;
                case 3:
                    bytes.InsertRange(at, EdgeBytes());
                    break;
                case 4:
                    bytes.InsertRange(at, bytes.GetRange(at, Math.Min(bytes.Count - at, random.Next(1, 20))));
                    break;
                case 5:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                default:
                    const string structure = "{}[]\",:\\ 0";
                    bytes[at] = (byte)structure[random.Next(structure.Length)];
                    break;
            }
        }
        return written with { Value = [.. bytes] };
    }

    byte[] EdgeBytes() => random.Next(10) switch
    {
        0 => [0xFF, 0xFE],
        1 => [0xC3, 0x28],
        2 => [0xED, 0xA0, 0x80],
        3 => [0xC0, 0xAF],
        4 => [0xF4, 0x90, 0x80, 0x80],
        5 => [0xE2, 0x82],
        6 => [0xEF, 0xBB, 0xBF],
        7 => Encoding.UTF8.GetBytes("\\ud800"),
        8 => [0x00],
        _ => Encoding.UTF8.GetBytes(char.ConvertFromUtf32(EdgeCodePoints[random.Next(EdgeCodePoints.Length - 4)])),
    };

    Draft WithFieldTypes(Draft draft)
    {
        string[] fields = ["schema", "jobId", "emittedAt", "seq", "phase", "metrics", "labels", "correlationId"];
        for (var n = random.Next(1, 3); n > 0; n--)
        {
            var field = fields[random.Next(fields.Length)];
            switch (random.Next(4))
            {
                case 0:
                    draft.Members.RemoveAll(m => m.Name == field);
                    break;
                case 1:
                    draft.Members.Add((field, AnyValue(2)));
                    break;
                default:
                    draft.Set(field, AnyValue(2));
                    break;
            }
        }
        return draft;
    }

    Draft WithNumbers(Draft draft)
    {
        if (random.Next(2) == 0)
        {
            draft.Set("seq", new Raw(ExtremeNumbers[random.Next(ExtremeNumbers.Length)]));
        }
        if (random.Next(2) == 0 || draft.Members.Find(m => m.Name == "metrics").Value is not Obj)
        {
            draft.Set("metrics", new Obj([("m", new Raw(ExtremeNumbers[random.Next(ExtremeNumbers.Length)])), ("n", new Raw(GrammarNumber()))]));
        }
        return draft;
    }

    string GrammarNumber()
    {
        var text = new StringBuilder();
        if (random.Next(3) == 0)
        {
            text.Append('-');
        }
        var digits = random.NextInt64(1, long.MaxValue).ToString(CultureInfo.InvariantCulture);
        text.Append(random.Next(4) == 0 ? "0" : digits[..Math.Min(digits.Length, random.Next(1, 19))]);
        if (random.Next(2) == 0)
        {
            text.Append('.').Append(random.Next(2) == 0 ? "0" : random.Next(1_000_000).ToString(CultureInfo.InvariantCulture));
        }
        if (random.Next(2) == 0)
        {
            text.Append("eE"[random.Next(2)]).Append(random.Next(3) switch { 0 => "", 1 => "+", _ => "-" })
                .Append(random.Next(4) == 0 ? random.Next(280, 340) : random.Next(25));
        }
        return text.ToString();
    }

    Draft WithNesting(Draft draft)
    {
        var depth = random.Next(58, 68);
        Node nested = new Raw(random.Next(2) == 0 ? "1" : "\"deep\"");
        for (var i = 0; i < depth; i++)
        {
            nested = random.Next(2) == 0 ? new Arr([nested]) : new Obj([("k", nested)]);
        }
        switch (random.Next(3))
        {
            case 0:
                draft.Set("metrics", new Obj([("m", nested)]));
                break;
            case 1:
                draft.Set("labels", new Obj([("l", nested)]));
                break;
            default:
                draft.Set("nested", nested);
                break;
        }
        return draft;
    }

    Draft WithUnicode(Draft draft)
    {
        var text = EdgeString(random.Next(8) switch { 0 => 256, 1 => 1024, _ => 6 });
        switch (random.Next(8))
        {
            case 0:
                draft.JobId = random.Next(4) == 0 ? Reserved[random.Next(Reserved.Length)] + text : text;
                draft.Set("jobId", new Str(draft.JobId));
                draft.Key = random.Next(8) == 0 ? Encoding.UTF8.GetBytes(draft.JobId + "x") : Encoding.UTF8.GetBytes(draft.JobId);
                break;
            case 1:
                draft.Set("phase", new Str(text));
                break;
            case 2:
                draft.Set("metrics", new Obj([(text, new Raw("1"))]));
                break;
            case 3:
                draft.Set("labels", new Obj([(text, new Str("v"))]));
                break;
            case 4:
                draft.Set("labels", new Obj([("l", new Str(text))]));
                break;
            case 5:
                draft.Set("correlationId", new Str(text));
                break;
            case 6:
                draft.Set(text, new Str(text));
                break;
            default:
                draft.Key = random.Next(2) == 0 ? RandomKey() : null;
                break;
        }
        return draft;
    }

    string EdgeString(int around)
    {
        var length = random.Next(4) switch
        {
            0 => random.Next(0, 3),
            1 => around - 1 + random.Next(3),
            _ => random.Next(1, 12),
        };
        var text = new StringBuilder();
        for (var i = 0; i < length; i++)
        {
            var codePoint = random.Next(3) == 0 ? EdgeCodePoints[random.Next(EdgeCodePoints.Length)] : "abcXYZ09-_. "[random.Next(12)];
            text.Append(codePoint is >= 0xD800 and <= 0xDFFF ? ((char)codePoint).ToString() : char.ConvertFromUtf32(codePoint));
        }
        return text.ToString();
    }

    Draft WithTimes(Draft draft)
    {
        var time = EdgeTimes[random.Next(EdgeTimes.Length)];
        if (random.Next(4) == 0 && time.Length > 0)
        {
            var chars = time.ToCharArray();
            const string replacements = "0123456789-:.TZ+ ";
            chars[random.Next(chars.Length)] = replacements[random.Next(replacements.Length)];
            time = new string(chars);
        }
        draft.Set("emittedAt", new Str(time));
        if (System.DateTimeOffset.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) && parsed.Year is > 1 and < 9999)
        {
            // Around the skew limit: 24 h before the event time, one tick either side.
            draft.MessageTime = random.Next(3) switch
            {
                0 => parsed.AddDays(-1).AddTicks(random.Next(-1, 2)),
                1 => null,
                _ => parsed.AddSeconds(random.Next(-200_000, 200_000)),
            };
        }
        return draft;
    }

    Node AnyValue(int depth) => random.Next(depth <= 0 ? 6 : 8) switch
    {
        0 => new Raw("null"),
        1 => new Raw(random.Next(2) == 0 ? "true" : "false"),
        2 => new Raw(ExtremeNumbers[random.Next(ExtremeNumbers.Length - 10)]),
        3 => new Str(EdgeString(8)),
        4 => new Str(random.Next(2) == 0 ? "job-signal/v1" : Rfc3339(DateTimeOffset.UnixEpoch.AddDays(random.Next(20_000)))),
        5 => new Raw(random.Next(1_000).ToString(CultureInfo.InvariantCulture)),
        6 => new Arr([.. Enumerable.Range(0, random.Next(4)).Select(_ => AnyValue(depth - 1))]),
        _ => new Obj([.. Enumerable.Range(0, random.Next(4)).Select(i => ("k" + i, AnyValue(depth - 1)))]),
    };

    byte[] RandomKey() => random.Next(4) switch
    {
        0 => [],
        1 => [0xFF],
        2 => Encoding.UTF8.GetBytes("job-" + random.Next(100)),
        _ => [.. Enumerable.Range(0, random.Next(1, 8)).Select(_ => (byte)random.Next(256))],
    };

    FuzzCase Written(string strategy, Draft draft)
    {
        var text = new StringBuilder();
        Space(text);
        Write(text, new Obj(draft.Members));
        Space(text);
        return new FuzzCase(strategy, draft.Key, Encoding.UTF8.GetBytes(text.ToString()), draft.MessageTime);
    }

    void Write(StringBuilder text, Node node)
    {
        switch (node)
        {
            case Raw raw:
                text.Append(raw.Json);
                break;
            case Str str:
                WriteString(text, str.Text);
                break;
            case Arr arr:
                text.Append('[');
                for (var i = 0; i < arr.Items.Count; i++)
                {
                    Space(text);
                    Write(text, arr.Items[i]);
                    Space(text);
                    if (i < arr.Items.Count - 1)
                    {
                        text.Append(',');
                    }
                }
                text.Append(']');
                break;
            case Obj obj:
                text.Append('{');
                for (var i = 0; i < obj.Members.Count; i++)
                {
                    Space(text);
                    WriteString(text, obj.Members[i].Name);
                    Space(text);
                    text.Append(':');
                    Space(text);
                    Write(text, obj.Members[i].Value);
                    Space(text);
                    if (i < obj.Members.Count - 1)
                    {
                        text.Append(',');
                    }
                }
                text.Append('}');
                break;
        }
    }

    // Escapes what JSON requires, a lone surrogate (UTF-8 cannot carry it), and otherwise escapes at random.
    void WriteString(StringBuilder text, string value)
    {
        text.Append('"');
        var escapeAll = random.Next(10) == 0;
        var escapeSurrogates = escapeAll || random.Next(3) == 0 || !IsPaired(value);
        foreach (var c in value)
        {
            if (c is '"' or '\\')
            {
                text.Append('\\').Append(c);
            }
            else if (c < 0x20 || (char.IsSurrogate(c) ? escapeSurrogates : escapeAll || random.Next(20) == 0))
            {
                text.Append(c switch
                {
                    '\n' when random.Next(2) == 0 => "\\n",
                    '\t' when random.Next(2) == 0 => "\\t",
                    '/' => "\\/",
                    _ => "\\u" + ((int)c).ToString(random.Next(2) == 0 ? "x4" : "X4", CultureInfo.InvariantCulture),
                });
            }
            else
            {
                text.Append(c);
            }
        }
        text.Append('"');
    }

    // Whether every surrogate of value is half of a pair, so it can be written as UTF-8 (then written raw or escaped).
    static bool IsPaired(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return false;
            }
        }
        return true;
    }

    void Space(StringBuilder text)
    {
        if (random.Next(4) == 0)
        {
            text.Append(" \t\n\r"[random.Next(4)]);
        }
    }

    void Shuffle<T>(List<T> items)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
