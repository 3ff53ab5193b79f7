using System.Globalization;
using System.Text;
using System.Text.Json;
using Streaming.Contracts.History;

namespace Streaming.Contracts.Signals;

/// <summary>Reads and validates one <c>job-signals</c> message; a rejection says what is wrong in words a producer can act on.</summary>
public static class JobSignalReader
{
    public const int MaxValueBytes = 64 * 1024;
    const int MaxIdLength = 256;

    public static SignalReadResult Read(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool keyPresent = true)
    {
        if (value.IsEmpty)
        {
            return SignalReadResult.Rejected("empty value (a tombstone is not a signal)");
        }
        if (value.Length > MaxValueBytes)
        {
            return SignalReadResult.Rejected($"value is {value.Length} bytes, more than the {MaxValueBytes} allowed");
        }
        SignalFields fields;
        try
        {
            fields = SignalFields.Read(value);
        }
        catch (JsonException e)
        {
            return SignalReadResult.Rejected($"malformed JSON: {e.Message}");
        }
        var result = Validate(fields);
        if (result.Signal is null)
        {
            return result;
        }
        if (!keyPresent || key.IsEmpty)
        {
            return SignalReadResult.Rejected("missing key: the key must be the job id");
        }
        return Encoding.UTF8.GetString(key) is var keyText && keyText == result.Signal.JobId
            ? result
            : SignalReadResult.Rejected($"key '{Shorten(keyText)}' does not match jobId '{result.Signal.JobId}'");
    }

    static SignalReadResult Validate(SignalFields fields)
    {
        if (fields.RootKind != JsonTokenType.StartObject)
        {
            return SignalReadResult.Rejected($"value must be a JSON object, not {KindName(fields.RootKind)}");
        }
        if (Required("schema", fields.Schema) is { } schemaError)
        {
            return SignalReadResult.Rejected(schemaError);
        }
        if (fields.Schema != JobSignal.SchemaV1)
        {
            return SignalReadResult.Rejected($"unsupported schema '{Shorten(fields.Schema!)}', expected '{JobSignal.SchemaV1}'");
        }
        if ((Required("jobId", fields.JobId) ?? Required("phase", fields.Phase)) is { } idError)
        {
            return SignalReadResult.Rejected(idError);
        }
        if (fields.JobId!.Length > MaxIdLength || fields.Phase!.Length > MaxIdLength)
        {
            return SignalReadResult.Rejected($"jobId and phase must be at most {MaxIdLength} characters");
        }
        if (ControlStreamPrefixes.Of(fields.JobId) is { } reserved)
        {
            return SignalReadResult.Rejected($"jobId must not start with '{reserved}': that prefix is reserved for the system's own streams");
        }
        if (Required("emittedAt", fields.EmittedAtText) is { } timeError)
        {
            return SignalReadResult.Rejected(timeError);
        }
        var emittedAt = fields.EmittedAt;
        if (emittedAt is null && DateTimeOffset.TryParse(fields.EmittedAtText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            emittedAt = parsed;
        }
        if (emittedAt is null)
        {
            return SignalReadResult.Rejected($"emittedAt '{Shorten(fields.EmittedAtText!)}' is not an ISO-8601 timestamp");
        }
        if (fields.Seq is not { } seq || seq < 0)
        {
            return SignalReadResult.Rejected("seq must be a whole number >= 0");
        }
        if (fields.Metrics is null)
        {
            return SignalReadResult.Rejected("metrics must be a JSON object of numbers");
        }
        if (fields.Error is { } error)
        {
            return SignalReadResult.Rejected(error);
        }
        return SignalReadResult.Accepted(new JobSignal(
            fields.Schema!, fields.JobId, emittedAt.Value, seq, fields.Phase, fields.Metrics,
            fields.Labels ?? new Dictionary<string, string>(StringComparer.Ordinal), fields.CorrelationId));
    }

    static string? Required(string name, string? value) => value switch
    {
        null => $"{name} is required and must be a string",
        "" => $"{name} must not be empty",
        _ when value.Contains('\0', StringComparison.Ordinal) => $"{name} must not contain NUL characters",
        _ => null,
    };

    static string KindName(JsonTokenType kind) => kind switch
    {
        JsonTokenType.StartArray => "Array",
        JsonTokenType.String => "String",
        JsonTokenType.Number => "Number",
        JsonTokenType.True => "True",
        JsonTokenType.False => "False",
        JsonTokenType.Null => "Null",
        _ => kind.ToString(),
    };

    static string Shorten(string text) => text.Length <= 64 ? text : string.Concat(text.AsSpan(0, 64), "…");
}
