using System.Text.Json;

namespace Streaming.Contracts.Signals;

/// <summary>
/// The fields of a <c>job-signal/v1</c> value as one forward pass of the JSON found them, before validation. Reading
/// stops at the first value of the wrong kind and records why in <see cref="Error"/>; unknown fields are skipped.
/// </summary>
sealed class SignalFields
{
    public JsonTokenType RootKind { get; private set; }
    public string? Error { get; private set; }
    public string? Schema { get; private set; }
    public string? JobId { get; private set; }
    public string? Phase { get; private set; }
    public string? EmittedAtText { get; private set; }
    public DateTimeOffset? EmittedAt { get; private set; }
    public long? Seq { get; private set; }
    public Dictionary<string, double>? Metrics { get; private set; }
    public Dictionary<string, string>? Labels { get; private set; }
    public string? CorrelationId { get; private set; }

    public static SignalFields Read(ReadOnlySpan<byte> json)
    {
        var fields = new SignalFields();
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        reader.Read();
        fields.RootKind = reader.TokenType;
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            fields.ReadObject(ref reader);
        }
        else
        {
            reader.Skip();
        }
        if (reader.Read())
        {
            throw new JsonException($"unexpected {reader.TokenType} after the value");
        }
        return fields;
    }

    void ReadObject(ref Utf8JsonReader reader)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            if (Error is not null)
            {
                reader.Skip();
                continue;
            }
            switch (name)
            {
                case "schema":
                    Schema = ReadString(ref reader);
                    break;
                case "jobId":
                    JobId = ReadString(ref reader);
                    break;
                case "phase":
                    Phase = ReadString(ref reader);
                    break;
                case "emittedAt":
                    EmittedAtText = ReadString(ref reader);
                    EmittedAt = EmittedAtText is not null && reader.TryGetDateTimeOffset(out var at) ? at : null;
                    break;
                case "seq":
                    Seq = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var seq) ? seq : -1;
                    reader.Skip();
                    break;
                case "metrics":
                    ReadMetrics(ref reader);
                    break;
                case "labels":
                    ReadLabels(ref reader);
                    break;
                case "correlationId":
                    ReadCorrelationId(ref reader);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
    }

    static string? ReadString(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return null;
        }
        return reader.GetString();
    }

    void ReadMetrics(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }
        var metrics = new Dictionary<string, double>(4, StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var metric = reader.GetString()!;
            reader.Read();
            if (Error is not null)
            {
                reader.Skip();
                continue;
            }
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out var number) || !double.IsFinite(number))
            {
                Error = $"metric '{Shorten(metric)}' must be a finite number";
                reader.Skip();
                continue;
            }
            if (metric.Contains('\0', StringComparison.Ordinal))
            {
                Error = "metric names must not contain NUL characters";
                continue;
            }
            metrics[metric] = number;
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
            reader.Skip();
            return;
        }
        var labels = new Dictionary<string, string>(4, StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var label = reader.GetString()!;
            reader.Read();
            if (Error is not null)
            {
                reader.Skip();
                continue;
            }
            if (reader.TokenType != JsonTokenType.String)
            {
                Error = $"label '{Shorten(label)}' must be a string";
                reader.Skip();
                continue;
            }
            var text = reader.GetString()!;
            if (label.Contains('\0', StringComparison.Ordinal) || text.Contains('\0', StringComparison.Ordinal))
            {
                Error = "labels must not contain NUL characters";
                continue;
            }
            labels[label] = text;
        }
        Labels = labels;
    }

    void ReadCorrelationId(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }
        if (reader.TokenType != JsonTokenType.String)
        {
            Error = "correlationId must be a string";
            reader.Skip();
            return;
        }
        CorrelationId = reader.GetString();
        if (CorrelationId!.Contains('\0', StringComparison.Ordinal))
        {
            Error = "correlationId must not contain NUL characters";
        }
    }

    static string Shorten(string text) => text.Length <= 64 ? text : string.Concat(text.AsSpan(0, 64), "…");
}
