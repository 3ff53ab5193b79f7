using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Streaming.Contracts.History;
using Streaming.Contracts.Text;

namespace Streaming.Contracts.Signals;

/// <summary>
/// Reads and validates one <c>job-signals</c> message against the wire contract (<c>contracts/schemas/job-signal.v1.json</c>
/// and the README's rules). Every input gives either a signal or a rejection saying what is wrong in words a producer
/// can act on; nothing a message holds makes it throw.
/// </summary>
public static class JobSignalReader
{
    public const int MaxValueBytes = 64 * 1024;

    /// <summary>Most metrics one signal may carry: every one is kept in the job's window, so their number is bounded.</summary>
    public const int MostMetrics = 100;

    /// <summary>Most labels one signal may carry.</summary>
    public const int MostLabels = 50;

    /// <summary>The start of the reason for a value the checks below did not foresee; tests assert it never appears.</summary>
    public const string UnforeseenPrefix = "unreadable value";

    /// <summary>No signal may be older than this: an event time before it is a producer's bug (an unset or zero clock).</summary>
    public static readonly DateTimeOffset EarliestEmittedAt = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    internal const string SeqProblem = "seq must be a whole number >= 0 (at most 9223372036854775807)";

    /// <param name="key">The message key: the UTF-8 bytes of the job id.</param>
    /// <param name="value">The message value: UTF-8 JSON.</param>
    /// <param name="keyPresent">False for a message without a key (a null key, as opposed to an empty one).</param>
    /// <param name="limit">How far ahead of its message's timestamp the event time may be; null checks only the earliest.</param>
    public static SignalReadResult Read(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool keyPresent = true, EventTimeLimit? limit = null)
    {
        try
        {
            return ReadChecked(key, value, keyPresent, limit);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return SignalReadResult.Rejected($"{UnforeseenPrefix} ({e.GetType().Name}): {UntrustedText.Escape(e.Message)}");
        }
    }

    static SignalReadResult ReadChecked(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool keyPresent, EventTimeLimit? limit)
    {
        if (value.IsEmpty)
        {
            return SignalReadResult.Rejected("empty value (a tombstone is not a signal)");
        }
        if (value.Length > MaxValueBytes)
        {
            return SignalReadResult.Rejected($"value is {value.Length} bytes, more than the {MaxValueBytes} allowed");
        }
        if (Utf8.IsValid(value) is false)
        {
            return SignalReadResult.Rejected($"value is not valid UTF-8 (first bad byte at offset {FirstInvalidByte(value)})");
        }
        SignalFields fields;
        try
        {
            fields = SignalFields.Read(value);
        }
        catch (JsonException e)
        {
            return SignalReadResult.Rejected($"malformed JSON: {UntrustedText.Escape(e.Message, 200)}");
        }
        var result = Validate(fields, limit, value);
        if (result.Signal is not { } signal)
        {
            return result;
        }
        if (!keyPresent || key.IsEmpty)
        {
            return SignalReadResult.Rejected("missing key: the key must be the job id");
        }
        return IsUtf8Of(key, signal.JobId)
            ? result
            : SignalReadResult.Rejected($"key '{UntrustedText.Escape(key, 64)}' does not match jobId '{SignalText.Quote(signal.JobId)}'");
    }

    static SignalReadResult Validate(SignalFields fields, EventTimeLimit? limit, ReadOnlySpan<byte> value)
    {
        if (fields.RootKind != JsonTokenType.StartObject)
        {
            return SignalReadResult.Rejected($"value must be a JSON object, not {KindName(fields.RootKind)}");
        }
        if (fields.Error is { } error)
        {
            return SignalReadResult.Rejected(error);
        }
        if (fields.Schema is not { } schema)
        {
            return SignalReadResult.Rejected(Required("schema"));
        }
        if (schema != JobSignal.SchemaV1)
        {
            return SignalReadResult.Rejected($"unsupported schema '{SignalText.Quote(schema)}', expected '{JobSignal.SchemaV1}'");
        }
        if (fields.JobId is not { } jobId)
        {
            return SignalReadResult.Rejected(Required("jobId"));
        }
        if (SignalText.NameProblem(jobId) is { } jobIdProblem)
        {
            return SignalReadResult.Rejected($"jobId {jobIdProblem}");
        }
        if (ControlStreamPrefixes.Of(jobId) is { } reserved)
        {
            return SignalReadResult.Rejected($"jobId must not start with '{reserved}': that prefix is reserved for the system's own streams");
        }
        if (fields.Phase is not { } phase)
        {
            return SignalReadResult.Rejected(Required("phase"));
        }
        if (SignalText.NameProblem(phase) is { } phaseProblem)
        {
            return SignalReadResult.Rejected($"phase {phaseProblem}");
        }
        if (fields.EmittedAtText is not { } emittedAtText)
        {
            return SignalReadResult.Rejected(Required("emittedAt"));
        }
        if (EmittedAtProblem(emittedAtText, limit, out var emittedAt) is { } timeProblem)
        {
            return SignalReadResult.Rejected(timeProblem);
        }
        if (fields.Seq is not { } seq)
        {
            return SignalReadResult.Rejected(SeqProblem);
        }
        if (fields.Metrics is not { } metrics)
        {
            return SignalReadResult.Rejected("metrics must be a JSON object of numbers");
        }
        if (metrics.Count > MostMetrics)
        {
            return SignalReadResult.Rejected($"metrics holds {metrics.Count} metrics; at most {MostMetrics}");
        }
        if (fields.Labels?.Count > MostLabels)
        {
            return SignalReadResult.Rejected($"labels holds {fields.Labels.Count} labels; at most {MostLabels}");
        }
        var labels = fields.Labels ?? new Dictionary<string, string>(StringComparer.Ordinal);
        return SignalReadResult.Accepted(
            new JobSignal(schema, jobId, emittedAt, seq, phase, metrics, labels, fields.CorrelationId),
            StorableAsSent(fields, emittedAt, labels, value));
    }

    // The value is a signal-recorded/v1 body (the same member names; "schema" is a member that body's readers skip) when
    // its readers read every field as this reader did and nothing else is in it: no unknown field (which could hold
    // anything), no label whose name looks secret (never stored as sent, so no raw copy holds one), seq as plain digits,
    // emittedAt to the same instant and offset by the JSON reader's own parsing, labels present (as an object: the
    // event's readers take a missing one as null), and the value's first
    // byte its object's (PostgreSQL's json refuses a byte order mark).
    static bool StorableAsSent(SignalFields fields, DateTimeOffset emittedAt, Dictionary<string, string> labels, ReadOnlySpan<byte> value) =>
        !fields.HasUnknownFields
        && fields.SeqIsPlain
        && fields.Labels is not null
        && fields.EmittedAtAsJson is { } asJson && asJson.EqualsExact(emittedAt)
        && value.TrimStart(" \t\r\n"u8) is [(byte)'{', ..]
        && !labels.Keys.Any(SecretLabels.LooksSecret);

    static string? EmittedAtProblem(string text, EventTimeLimit? limit, out DateTimeOffset emittedAt)
    {
        switch (Rfc3339.Parse(text, out emittedAt))
        {
            case Rfc3339.Outcome.Malformed:
                return $"emittedAt '{SignalText.Quote(text)}' is not an RFC 3339 timestamp with Z or an offset (e.g. 2026-11-22T10:00:00Z)";
            case Rfc3339.Outcome.TooLate:
                return $"emittedAt {text} is after 9999-12-31T23:59:59.9999999Z";
            case Rfc3339.Outcome.TooEarly:
            case Rfc3339.Outcome.Parsed when emittedAt < EarliestEmittedAt:
                return $"emittedAt {text} is before {EarliestEmittedAt:yyyy-MM-dd'T'HH:mm:ss'Z'}";
        }
        if (limit is { } bound && emittedAt > bound.Latest)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"emittedAt {text} is more than {bound.MaxClockSkew} ahead of the message's timestamp {bound.MessageTimestamp.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}");
        }
        return null;
    }

    static string Required(string name) => $"{name} is required and must be a string";

    static bool IsUtf8Of(ReadOnlySpan<byte> key, string text)
    {
        if (key.Length != Encoding.UTF8.GetByteCount(text))
        {
            return false;
        }
        Span<byte> encoded = key.Length <= 1024 ? stackalloc byte[key.Length] : new byte[key.Length];
        Encoding.UTF8.GetBytes(text, encoded);
        return key.SequenceEqual(encoded);
    }

    static int FirstInvalidByte(ReadOnlySpan<byte> value)
    {
        var offset = 0;
        while (Rune.DecodeFromUtf8(value[offset..], out _, out var consumed) == System.Buffers.OperationStatus.Done)
        {
            offset += consumed;
        }
        return offset;
    }

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
}
