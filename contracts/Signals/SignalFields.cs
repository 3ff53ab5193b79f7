using System.Text.Json;

namespace Streaming.Contracts.Signals;

/// <summary>
/// The fields of a <c>job-signal/v1</c> value as one forward pass of the JSON found them, before the checks that need
/// them all. Reading stops at the first field that breaks the contract and records why in <see cref="Error"/>; JSON
/// that is not well formed throws <see cref="JsonException"/>. Unknown fields are skipped, but every string anywhere
/// in the value must be valid Unicode (no escaped lone surrogate), as I-JSON (RFC 7493) requires.
/// </summary>
sealed class SignalFields
{
    /// <summary>The deepest nesting of objects and arrays read (the value's own object is level 1).</summary>
    public const int MaxDepth = 64;

    [Flags]
    enum Known
    {
        None = 0,
        Schema = 1,
        JobId = 2,
        Phase = 4,
        EmittedAt = 8,
        Seq = 16,
        Metrics = 32,
        Labels = 64,
        CorrelationId = 128,
    }

    Known _seen;

    public JsonTokenType RootKind { get; private set; }
    public string? Error { get; private set; }
    public string? Schema { get; private set; }
    public string? JobId { get; private set; }
    public string? Phase { get; private set; }
    public string? EmittedAtText { get; private set; }
    public long? Seq { get; private set; }
    public Dictionary<string, double>? Metrics { get; private set; }
    public Dictionary<string, string>? Labels { get; private set; }
    public string? CorrelationId { get; private set; }

    /// <summary>A field this version does not know was skipped.</summary>
    public bool HasUnknownFields { get; private set; }

    /// <summary>seq is written as plain digits (not 7.0 or 7e0, which a stored signal's reader would not take).</summary>
    public bool SeqIsPlain { get; private set; }

    /// <summary>emittedAt as the JSON reader's own ISO 8601 parsing reads it (how stored signals are read), if it can.</summary>
    public DateTimeOffset? EmittedAtAsJson { get; private set; }

    public static SignalFields Read(ReadOnlySpan<byte> json)
    {
        var fields = new SignalFields();
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth });
        reader.Read();
        fields.RootKind = reader.TokenType;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return fields;
        }
        fields.ReadObject(ref reader);
        if (fields.Error is null && reader.Read())
        {
            throw new JsonException($"unexpected {reader.TokenType} after the value");
        }
        return fields;
    }

    void ReadObject(ref Utf8JsonReader reader)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            // A known field's name written plainly is its constant: no string per field. Any other name is read whole.
            var (field, name) = reader.ValueIsEscaped ? (Known.None, null) : KnownField(ref reader);
            if (name is null)
            {
                if (!TryText(ref reader, "a field name", out var read))
                {
                    return;
                }
                (field, name) = (FieldNamed(read), read);
            }
            reader.Read();
            if ((_seen & field) != 0)
            {
                Error = $"field '{name}' appears more than once";
                return;
            }
            _seen |= field;
            switch (field)
            {
                case Known.Schema:
                    Schema = ReadString(ref reader, name);
                    break;
                case Known.JobId:
                    JobId = ReadString(ref reader, name);
                    break;
                case Known.Phase:
                    Phase = ReadString(ref reader, name);
                    break;
                case Known.EmittedAt:
                    EmittedAtText = ReadString(ref reader, name);
                    EmittedAtAsJson = EmittedAtText is not null && reader.TryGetDateTimeOffset(out var asJson) ? asJson : null;
                    break;
                case Known.Seq:
                    ReadSeq(ref reader);
                    break;
                case Known.Metrics:
                    ReadMetrics(ref reader);
                    break;
                case Known.Labels:
                    ReadLabels(ref reader);
                    break;
                case Known.CorrelationId:
                    ReadCorrelationId(ref reader);
                    break;
                default:
                    HasUnknownFields = true;
                    SkipUnknown(ref reader, name);
                    break;
            }
            if (Error is not null)
            {
                return;
            }
        }
    }

    string? ReadString(ref Utf8JsonReader reader, string name)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            Error = $"{name} must be a string";
            return null;
        }
        return TryText(ref reader, name, out var text) ? text : null;
    }

    void ReadSeq(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Number && WholeNumber.TryRead(reader.ValueSpan, out var seq))
        {
            Seq = seq;
            SeqIsPlain = !reader.ValueSpan.ContainsAnyExceptInRange((byte)'0', (byte)'9');
            return;
        }
        Error = JobSignalReader.SeqProblem;
    }

    void ReadMetrics(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            Error = "metrics must be a JSON object of numbers";
            return;
        }
        var metrics = new Dictionary<string, double>(4, StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!TryName(ref reader, "metric", "a metric name", out var metric))
            {
                return;
            }
            reader.Read();
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out var number) || !double.IsFinite(number))
            {
                Error = $"metric '{SignalText.Quote(metric)}' must be a finite number";
                return;
            }
            if (!metrics.TryAdd(metric, number))
            {
                Error = $"metric '{SignalText.Quote(metric)}' appears more than once";
                return;
            }
        }
        Metrics = metrics;
    }

    void ReadLabels(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            Error = "labels must be a JSON object of strings";
            return;
        }
        var labels = new Dictionary<string, string>(4, StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!TryName(ref reader, "label", "a label name", out var label))
            {
                return;
            }
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
            {
                Error = $"label '{SignalText.Quote(label)}' must be a string";
                return;
            }
            // The label's name is quoted for an error only: a valid value costs no message.
            if (reader.ValueIsEscaped && HasLoneSurrogateEscape(reader.ValueSpan))
            {
                Error = $"label '{SignalText.Quote(label)}' is not valid Unicode: it has an escaped lone surrogate";
                return;
            }
            var text = reader.GetString()!;
            if (SignalText.TextProblem(text, SignalText.MaxLabelValueLength) is { } textProblem)
            {
                Error = $"label '{SignalText.Quote(label)}' value {textProblem}";
                return;
            }
            if (!labels.TryAdd(label, text))
            {
                Error = $"label '{SignalText.Quote(label)}' appears more than once";
                return;
            }
        }
        Labels = labels;
    }

    void ReadCorrelationId(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }
        if (ReadString(ref reader, "correlationId") is not { } text)
        {
            return;
        }
        if (SignalText.TextProblem(text, SignalText.MaxCorrelationIdLength) is { } problem)
        {
            Error = $"correlationId {problem}";
            return;
        }
        CorrelationId = text;
    }

    // Skips a field this version does not know, checking that its strings are valid Unicode on the way.
    void SkipUnknown(ref Utf8JsonReader reader, string name)
    {
        var depth = reader.CurrentDepth;
        while (true)
        {
            if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && !TryText(ref reader, $"field '{SignalText.Quote(name)}'", out _, decode: false))
            {
                return;
            }
            if (reader.CurrentDepth == depth && reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
            {
                return;
            }
            reader.Read();
        }
    }

    static Known FieldNamed(string name) => name switch
    {
        "schema" => Known.Schema,
        "jobId" => Known.JobId,
        "phase" => Known.Phase,
        "emittedAt" => Known.EmittedAt,
        "seq" => Known.Seq,
        "metrics" => Known.Metrics,
        "labels" => Known.Labels,
        "correlationId" => Known.CorrelationId,
        _ => Known.None,
    };

    static (Known Field, string? Name) KnownField(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("schema"u8) ? (Known.Schema, "schema")
        : reader.ValueTextEquals("jobId"u8) ? (Known.JobId, "jobId")
        : reader.ValueTextEquals("phase"u8) ? (Known.Phase, "phase")
        : reader.ValueTextEquals("emittedAt"u8) ? (Known.EmittedAt, "emittedAt")
        : reader.ValueTextEquals("seq"u8) ? (Known.Seq, "seq")
        : reader.ValueTextEquals("metrics"u8) ? (Known.Metrics, "metrics")
        : reader.ValueTextEquals("labels"u8) ? (Known.Labels, "labels")
        : reader.ValueTextEquals("correlationId"u8) ? (Known.CorrelationId, "correlationId")
        : (Known.None, null);

    // A metric or label name.
    bool TryName(ref Utf8JsonReader reader, string kind, string what, out string name)
    {
        if (!TryText(ref reader, what, out name))
        {
            return false;
        }
        if (SignalText.NameProblem(name) is { } problem)
        {
            Error = $"{kind} name '{SignalText.Quote(name)}' {problem}";
            return false;
        }
        return true;
    }

    // GetString would throw on an escaped lone surrogate; the rest of UTF-8's rules the reader checked on the whole value.
    bool TryText(ref Utf8JsonReader reader, string what, out string text, bool decode = true)
    {
        if (reader.ValueIsEscaped && HasLoneSurrogateEscape(reader.ValueSpan))
        {
            Error = $"{what} is not valid Unicode: it has an escaped lone surrogate";
            text = "";
            return false;
        }
        text = decode ? reader.GetString()! : "";
        return true;
    }

    // Escapes are well formed here (the JSON reader checked them): \" \\ \/ \b \f \n \r \t or \uXXXX.
    static bool HasLoneSurrogateEscape(ReadOnlySpan<byte> raw)
    {
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] != '\\')
            {
                continue;
            }
            if (raw[i + 1] != 'u')
            {
                i++;
                continue;
            }
            var unit = Hex(raw.Slice(i + 2, 4));
            i += 5;
            if (unit is >= 0xDC00 and <= 0xDFFF)
            {
                return true;
            }
            if (unit is >= 0xD800 and <= 0xDBFF)
            {
                if (i + 6 >= raw.Length || raw[i + 1] != '\\' || raw[i + 2] != 'u' || Hex(raw.Slice(i + 3, 4)) is < 0xDC00 or > 0xDFFF)
                {
                    return true;
                }
                i += 6;
            }
        }
        return false;
    }

    static int Hex(ReadOnlySpan<byte> digits)
    {
        var value = 0;
        foreach (var digit in digits)
        {
            value = value * 16 + (digit <= '9' ? digit - '0' : (digit | 0x20) - 'a' + 10);
        }
        return value;
    }
}
