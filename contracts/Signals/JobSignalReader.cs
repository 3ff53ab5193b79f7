using System.Globalization;
using System.Text;
using System.Text.Json;

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
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(value.ToArray());
        }
        catch (JsonException e)
        {
            return SignalReadResult.Rejected($"malformed JSON: {e.Message}");
        }
        using (document)
        {
            var result = Read(document.RootElement);
            if (result.Signal is null)
            {
                return result;
            }
            if (!keyPresent || key.IsEmpty)
            {
                return SignalReadResult.Rejected("missing key: the key must be the job id");
            }
            var keyText = Encoding.UTF8.GetString(key);
            return keyText == result.Signal.JobId
                ? result
                : SignalReadResult.Rejected($"key '{Shorten(keyText)}' does not match jobId '{result.Signal.JobId}'");
        }
    }

    static SignalReadResult Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return SignalReadResult.Rejected($"value must be a JSON object, not {root.ValueKind}");
        }
        if (!TryString(root, "schema", out var schema, out var error))
        {
            return SignalReadResult.Rejected(error);
        }
        if (schema != JobSignal.SchemaV1)
        {
            return SignalReadResult.Rejected($"unsupported schema '{Shorten(schema)}', expected '{JobSignal.SchemaV1}'");
        }
        if (!TryString(root, "jobId", out var jobId, out error) || !TryString(root, "phase", out var phase, out error))
        {
            return SignalReadResult.Rejected(error);
        }
        if (jobId.Length > MaxIdLength || phase.Length > MaxIdLength)
        {
            return SignalReadResult.Rejected($"jobId and phase must be at most {MaxIdLength} characters");
        }
        if (!TryString(root, "emittedAt", out var emittedText, out error))
        {
            return SignalReadResult.Rejected(error);
        }
        if (!DateTimeOffset.TryParse(emittedText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var emittedAt))
        {
            return SignalReadResult.Rejected($"emittedAt '{Shorten(emittedText)}' is not an ISO-8601 timestamp");
        }
        if (!root.TryGetProperty("seq", out var seqElement) || seqElement.ValueKind != JsonValueKind.Number
            || !seqElement.TryGetInt64(out var seq) || seq < 0)
        {
            return SignalReadResult.Rejected("seq must be a whole number >= 0");
        }
        if (!root.TryGetProperty("metrics", out var metricsElement) || metricsElement.ValueKind != JsonValueKind.Object)
        {
            return SignalReadResult.Rejected("metrics must be a JSON object of numbers");
        }
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var metric in metricsElement.EnumerateObject())
        {
            if (metric.Value.ValueKind != JsonValueKind.Number || !metric.Value.TryGetDouble(out var number) || !double.IsFinite(number))
            {
                return SignalReadResult.Rejected($"metric '{Shorten(metric.Name)}' must be a finite number");
            }
            if (metric.Name.Contains('\0', StringComparison.Ordinal))
            {
                return SignalReadResult.Rejected("metric names must not contain NUL characters");
            }
            metrics[metric.Name] = number;
        }
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root.TryGetProperty("labels", out var labelsElement) && labelsElement.ValueKind != JsonValueKind.Null)
        {
            if (labelsElement.ValueKind != JsonValueKind.Object)
            {
                return SignalReadResult.Rejected("labels must be a JSON object of strings");
            }
            foreach (var label in labelsElement.EnumerateObject())
            {
                if (label.Value.ValueKind != JsonValueKind.String)
                {
                    return SignalReadResult.Rejected($"label '{Shorten(label.Name)}' must be a string");
                }
                var text = label.Value.GetString()!;
                if (label.Name.Contains('\0', StringComparison.Ordinal) || text.Contains('\0', StringComparison.Ordinal))
                {
                    return SignalReadResult.Rejected("labels must not contain NUL characters");
                }
                labels[label.Name] = text;
            }
        }
        string? correlationId = null;
        if (root.TryGetProperty("correlationId", out var correlationElement) && correlationElement.ValueKind != JsonValueKind.Null)
        {
            if (correlationElement.ValueKind != JsonValueKind.String)
            {
                return SignalReadResult.Rejected("correlationId must be a string");
            }
            correlationId = correlationElement.GetString();
            if (correlationId!.Contains('\0', StringComparison.Ordinal))
            {
                return SignalReadResult.Rejected("correlationId must not contain NUL characters");
            }
        }
        return SignalReadResult.Accepted(new JobSignal(schema, jobId, emittedAt, seq, phase, metrics, labels, correlationId));
    }

    static bool TryString(JsonElement root, string name, out string value, out string error)
    {
        value = "";
        error = "";
        if (!root.TryGetProperty(name, out var element) || element.ValueKind != JsonValueKind.String)
        {
            error = $"{name} is required and must be a string";
            return false;
        }
        value = element.GetString()!;
        if (value.Length == 0)
        {
            error = $"{name} must not be empty";
            return false;
        }
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            error = $"{name} must not contain NUL characters";
            return false;
        }
        return true;
    }

    static string Shorten(string text) => text.Length <= 64 ? text : string.Concat(text.AsSpan(0, 64), "…");
}
