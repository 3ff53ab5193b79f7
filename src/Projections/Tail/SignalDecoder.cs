using System.Text.Json;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Lifecycle;

namespace Streaming.Projections.Tail;

/// <summary>
/// Reads <c>signal-recorded/v1</c> bodies straight from their UTF-8 JSON into the shape the folds keep: metrics as
/// <see cref="MetricValues"/> with shared names, and names, phases and label sets shared between signals (a fleet repeats
/// a handful of them), so a signal costs its record, its metric arrays and its correlation id. What this reader does not
/// expect is handed to the contract's own deserializer, which decides; either way the result is checked against the
/// contract. Not thread-safe: one per reading thread.
/// </summary>
public sealed class SignalDecoder
{
    /// <summary>The earliest event time the contract accepts; a stored signal from before it is refused.</summary>
    public static readonly DateTimeOffset EarliestEmittedAt = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    const int MaxSharedStrings = 16_384;
    const int MaxSharedLabelSets = 4_096;
    const int MaxSharedLength = 256;

    static readonly IReadOnlyDictionary<string, string> NoLabels = new Dictionary<string, string>(StringComparer.Ordinal);

    readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);
    readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _stringsBySpan;
    readonly Dictionary<int, List<Dictionary<string, string>>> _labelSets = [];
    readonly List<string> _names = [];
    readonly List<double> _values = [];
    readonly List<(string Name, string Value)> _labels = [];
    int _sharedLabelSets;
    string[] _lastNames = [];

    public SignalDecoder() => _stringsBySpan = _strings.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>
    /// The signal in <paramref name="utf8"/>; <paramref name="streamId"/> is its stream, whose id instance the signal
    /// shares when it names the same job. Throws <see cref="InvalidDataException"/> when the body breaks the contract.
    /// </summary>
    public SignalRecorded Decode(ReadOnlySpan<byte> utf8, string streamId)
    {
        SignalRecorded? signal;
        try
        {
            signal = TryRead(utf8, streamId);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or ArgumentException)
        {
            signal = null;
        }
        if (signal is null)
        {
            try
            {
                var read = JsonSerializer.Deserialize(utf8, ContractsJson.Default.SignalRecorded)
                    ?? throw new InvalidDataException("the body is null");
                signal = read.Metrics is null ? read : read with { Metrics = MetricValues.From(read.Metrics) };
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or ArgumentException or NotSupportedException)
            {
                throw new InvalidDataException($"the body is not a {SignalRecorded.EventType}: {e.Message}", e);
            }
        }
        return Checked(signal);
    }

    /// <summary>A signal that satisfies the contract as stored; throws <see cref="InvalidDataException"/> otherwise.</summary>
    public static SignalRecorded Checked(SignalRecorded signal)
    {
        if (string.IsNullOrEmpty(signal.JobId))
        {
            throw new InvalidDataException("jobId is missing");
        }
        if (string.IsNullOrEmpty(signal.Phase))
        {
            throw new InvalidDataException("phase is missing");
        }
        if (signal.Metrics is null)
        {
            throw new InvalidDataException("metrics are missing");
        }
        foreach (var (name, value) in signal.Metrics)
        {
            if (!double.IsFinite(value))
            {
                throw new InvalidDataException($"metric {name} is not a finite number");
            }
        }
        if (signal.EmittedAt < EarliestEmittedAt)
        {
            throw new InvalidDataException($"emittedAt {signal.EmittedAt:O} is before {EarliestEmittedAt:yyyy-MM-dd}, which the contract refuses");
        }
        if (signal.Labels is null)
        {
            return signal with { Labels = NoLabels };
        }
        foreach (var (_, value) in signal.Labels)
        {
            if (value is null)
            {
                throw new InvalidDataException("a label has no value");
            }
        }
        return signal;
    }

    // Null when the body is not in the shape this reader expects (the contract's deserializer then decides).
    SignalRecorded? TryRead(ReadOnlySpan<byte> utf8, string streamId)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 64 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }
        string? jobId = null, phase = null, correlationId = null;
        long seq = 0;
        DateTimeOffset emittedAt = default;
        bool hasSeq = false, hasEmittedAt = false, hasMetrics = false;
        IReadOnlyDictionary<string, string>? labels = null;
        MetricValues? metrics = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("jobId"u8))
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.String)
                {
                    return null;
                }
                jobId = reader.ValueTextEquals(streamId) ? streamId : reader.GetString();
            }
            else if (reader.ValueTextEquals("seq"u8))
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out seq))
                {
                    return null;
                }
                hasSeq = true;
            }
            else if (reader.ValueTextEquals("emittedAt"u8))
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.String || !reader.TryGetDateTimeOffset(out emittedAt))
                {
                    return null;
                }
                hasEmittedAt = true;
            }
            else if (reader.ValueTextEquals("phase"u8))
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.String)
                {
                    return null;
                }
                phase = Shared(ref reader);
            }
            else if (reader.ValueTextEquals("metrics"u8))
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject || (metrics = ReadMetrics(ref reader)) is null)
                {
                    return null;
                }
                hasMetrics = true;
            }
            else if (reader.ValueTextEquals("labels"u8))
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject || (labels = ReadLabels(ref reader)) is null)
                {
                    return null;
                }
            }
            else if (reader.ValueTextEquals("correlationId"u8))
            {
                if (!reader.Read() || reader.TokenType is not (JsonTokenType.String or JsonTokenType.Null))
                {
                    return null;
                }
                correlationId = reader.TokenType == JsonTokenType.Null ? null : reader.GetString();
            }
            else
            {
                // Unknown fields are ignored, as the contract says.
                reader.Skip();
            }
        }
        if (reader.TokenType != JsonTokenType.EndObject || reader.Read() || jobId is null || phase is null || !hasSeq || !hasEmittedAt || !hasMetrics)
        {
            return null;
        }
        return new SignalRecorded(jobId, seq, emittedAt, phase, metrics!, labels ?? NoLabels, correlationId);
    }

    MetricValues? ReadMetrics(ref Utf8JsonReader reader)
    {
        _names.Clear();
        _values.Clear();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = Shared(ref reader);
            if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out var value) || _names.Contains(name))
            {
                return null;
            }
            _names.Add(MetricNames.Intern(name));
            _values.Add(value);
        }
        if (reader.TokenType != JsonTokenType.EndObject)
        {
            return null;
        }
        // Signals mostly carry the same names as the one before: they share that array.
        if (!_lastNames.AsSpan().SequenceEqual(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_names)))
        {
            _lastNames = [.. _names];
        }
        return MetricValues.Wrap(_lastNames, [.. _values]);
    }

    IReadOnlyDictionary<string, string>? ReadLabels(ref Utf8JsonReader reader)
    {
        _labels.Clear();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = Shared(ref reader);
            if (!reader.Read() || reader.TokenType != JsonTokenType.String)
            {
                return null;
            }
            var value = Shared(ref reader);
            foreach (var (seen, _) in _labels)
            {
                if (ReferenceEquals(seen, name))
                {
                    return null;
                }
            }
            _labels.Add((name, value));
        }
        return reader.TokenType == JsonTokenType.EndObject ? SharedLabels() : null;
    }

    // One instance of each label set seen: the same set (in any order) comes back as the same dictionary.
    IReadOnlyDictionary<string, string> SharedLabels()
    {
        if (_labels.Count == 0)
        {
            return NoLabels;
        }
        var hash = 0;
        foreach (var (name, value) in _labels)
        {
            hash ^= HashCode.Combine(name, value);
        }
        if (_labelSets.TryGetValue(hash, out var candidates))
        {
            foreach (var candidate in candidates)
            {
                if (SameAsParsed(candidate))
                {
                    return candidate;
                }
            }
        }
        var labels = new Dictionary<string, string>(_labels.Count, StringComparer.Ordinal);
        foreach (var (name, value) in _labels)
        {
            labels[name] = value;
        }
        if (_sharedLabelSets < MaxSharedLabelSets)
        {
            if (candidates is null)
            {
                _labelSets[hash] = candidates = [];
            }
            candidates.Add(labels);
            _sharedLabelSets++;
        }
        return labels;
    }

    bool SameAsParsed(Dictionary<string, string> labels)
    {
        if (labels.Count != _labels.Count)
        {
            return false;
        }
        foreach (var (name, value) in _labels)
        {
            if (!labels.TryGetValue(name, out var held) || !ReferenceEquals(held, value) && !string.Equals(held, value, StringComparison.Ordinal))
            {
                return false;
            }
        }
        return true;
    }

    // The token's text as a shared instance when it is short and seen before (or room is left to remember it).
    string Shared(ref Utf8JsonReader reader)
    {
        var length = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (length > MaxSharedLength)
        {
            return reader.GetString()!;
        }
        Span<char> buffer = stackalloc char[MaxSharedLength];
        var text = buffer[..reader.CopyString(buffer)];
        if (_stringsBySpan.TryGetValue(text, out var shared))
        {
            return shared;
        }
        var created = new string(text);
        if (_strings.Count < MaxSharedStrings)
        {
            _strings[created] = created;
        }
        return created;
    }
}
