using System.Text;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.Projections.Tail;

namespace Streaming.Projections.History;

/// <summary>
/// Writes events of the log in the compact history encoding that <see cref="HistoryReader"/> reads: each name, phase and
/// label set written once and referred to by number after, signals as numbers, other events as stored; segments end with
/// the log position they reach. Shared by the local copy (<see cref="HistoryCache"/>) and the archive's blocks.
/// </summary>
public sealed class HistoryWriter(Stream output) : IDisposable
{
    internal const byte DefineString = 1, DefineLabels = 2, Signal = 3, Other = 4, SegmentEnd = 9;

    const int MostRememberedInstances = 4_096;

    readonly BinaryWriter _writer = new(output, Encoding.UTF8, leaveOpen: true);
    readonly Dictionary<string, int> _strings = new(StringComparer.Ordinal);
    readonly Dictionary<IReadOnlyDictionary<string, string>, int> _labelSets = new(LabelSetComparer.Instance);
    readonly Dictionary<IReadOnlyDictionary<string, string>, int> _labelSetInstances = new(ReferenceEqualityComparer.Instance);

    /// <summary>Tells the writer what a reader of the same stream already knows, so it is not written again.</summary>
    internal void Know(HistoryReader reader)
    {
        for (var i = 0; i < reader.Strings.Count; i++)
        {
            _strings[reader.Strings[i]] = i;
        }
        for (var i = 0; i < reader.LabelSets.Count; i++)
        {
            _labelSets[reader.LabelSets[i]] = i;
        }
    }

    /// <summary>Writes one event: a signal as numbers, anything else (an unreadable signal too) as stored.</summary>
    public void Write(LogEvent logEvent)
    {
        var recorded = logEvent.Event;
        if (logEvent.Signal is { } signal && ControlStreamPrefixes.Of(recorded.StreamId) is null)
        {
            var stream = StringIndex(recorded.StreamId);
            var phase = StringIndex(signal.Phase);
            var labels = LabelIndex(signal.Labels);
            // Decoded signals hold their metrics as MetricValues already: read as spans, without enumerators.
            var metrics = MetricValues.From(signal.Metrics);
            Span<int> names = stackalloc int[metrics.Count];
            var i = 0;
            foreach (var name in metrics.NameSpan)
            {
                names[i++] = StringIndex(name);
            }
            _writer.Write(Signal);
            _writer.Write7BitEncodedInt64(recorded.GlobalPosition);
            _writer.Write7BitEncodedInt64(recorded.Commit);
            _writer.Write7BitEncodedInt(stream);
            _writer.Write7BitEncodedInt64(recorded.Version);
            _writer.Write7BitEncodedInt64(signal.Seq);
            _writer.Write(signal.EmittedAt.UtcTicks);
            _writer.Write((short)signal.EmittedAt.Offset.TotalMinutes);
            _writer.Write7BitEncodedInt(phase);
            _writer.Write7BitEncodedInt(labels);
            _writer.Write7BitEncodedInt(names.Length);
            i = 0;
            foreach (var value in metrics.ValueSpan)
            {
                _writer.Write7BitEncodedInt(names[i++]);
                _writer.Write(value);
            }
            return;
        }
        var streamId = StringIndex(recorded.StreamId);
        var type = StringIndex(recorded.Type);
        _writer.Write(Other);
        _writer.Write7BitEncodedInt64(recorded.GlobalPosition);
        _writer.Write7BitEncodedInt64(recorded.Commit);
        _writer.Write7BitEncodedInt(streamId);
        _writer.Write7BitEncodedInt64(recorded.Version);
        _writer.Write(recorded.EventId.ToByteArray());
        _writer.Write7BitEncodedInt(type);
        _writer.Write(recorded.Data);
        _writer.Write(recorded.Seq ?? -1);
        _writer.Write(recorded.EventTime.UtcTicks);
    }

    public void EndSegment(TailPosition reached)
    {
        _writer.Write(SegmentEnd);
        _writer.Write7BitEncodedInt64(reached.Commit);
        _writer.Write7BitEncodedInt64(reached.GlobalPosition);
        _writer.Flush();
    }

    public void Dispose() => _writer.Dispose();

    int StringIndex(string text)
    {
        if (_strings.TryGetValue(text, out var index))
        {
            return index;
        }
        index = _strings.Count;
        _strings[text] = index;
        _writer.Write(DefineString);
        _writer.Write(text);
        return index;
    }

    int LabelIndex(IReadOnlyDictionary<string, string> labels)
    {
        // The tail's decoder shares one instance per label set: found by reference first, without enumerating it.
        if (_labelSetInstances.TryGetValue(labels, out var index))
        {
            return index;
        }
        if (_labelSets.TryGetValue(labels, out index))
        {
            RememberInstance(labels, index);
            return index;
        }
        Span<(int Name, int Value)> pairs = labels.Count <= 16 ? stackalloc (int, int)[labels.Count] : new (int, int)[labels.Count];
        var i = 0;
        foreach (var (name, value) in labels)
        {
            pairs[i++] = (StringIndex(name), StringIndex(value));
        }
        index = _labelSets.Count;
        _labelSets[labels] = index;
        RememberInstance(labels, index);
        _writer.Write(DefineLabels);
        _writer.Write7BitEncodedInt(pairs.Length);
        foreach (var (name, value) in pairs)
        {
            _writer.Write7BitEncodedInt(name);
            _writer.Write7BitEncodedInt(value);
        }
        return index;
    }

    // Bounded: a long-lived writer handed a new instance of the same sets at every event (labels not shared) keeps none.
    void RememberInstance(IReadOnlyDictionary<string, string> labels, int index)
    {
        if (_labelSetInstances.Count < MostRememberedInstances)
        {
            _labelSetInstances[labels] = index;
        }
    }

    /// <summary>Label sets alike when they hold the same names and values, in whatever order.</summary>
    sealed class LabelSetComparer : IEqualityComparer<IReadOnlyDictionary<string, string>>
    {
        public static readonly LabelSetComparer Instance = new();

        public bool Equals(IReadOnlyDictionary<string, string>? x, IReadOnlyDictionary<string, string>? y)
        {
            if (ReferenceEquals(x, y))
            {
                return true;
            }
            if (x is null || y is null || x.Count != y.Count)
            {
                return false;
            }
            foreach (var (name, value) in x)
            {
                if (!y.TryGetValue(name, out var other) || !string.Equals(value, other, StringComparison.Ordinal))
                {
                    return false;
                }
            }
            return true;
        }

        public int GetHashCode(IReadOnlyDictionary<string, string> labels)
        {
            var hash = labels.Count;
            foreach (var (name, value) in labels)
            {
                hash ^= HashCode.Combine(StringComparer.Ordinal.GetHashCode(name), StringComparer.Ordinal.GetHashCode(value));
            }
            return hash;
        }
    }
}
