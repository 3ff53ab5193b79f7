using System.Text;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.Projections.Tail;

namespace Streaming.Projections.History;

/// <summary>
/// Reads what a <see cref="HistoryWriter"/> wrote, a whole segment at a time, as <see cref="LogEvent"/>s: signals already
/// read (names, phases and label sets shared, as the folds expect), other events decoded from their stored bodies.
/// </summary>
public sealed class HistoryReader(Stream input) : IDisposable
{
    EventDecoder? _decoder;
    readonly BinaryReader _reader = new(input, Encoding.UTF8, leaveOpen: true);
    readonly List<string> _strings = [];
    readonly List<IReadOnlyDictionary<string, string>> _labelSets = [];
    int _wholeStrings, _wholeLabelSets;
    string[] _lastNames = [];

    internal IReadOnlyList<string> Strings => _strings;

    internal IReadOnlyList<IReadOnlyDictionary<string, string>> LabelSets => _labelSets;

    /// <summary>
    /// Hands each whole segment before <paramref name="length"/> to <paramref name="apply"/> and returns the position
    /// the last one reaches (null when there is none); <paramref name="validLength"/> is where the last whole segment
    /// ends. A segment cut short, or bytes that are not a segment, end the reading.
    /// </summary>
    public TailPosition? ReadSegments(long length, Action<IReadOnlyList<LogEvent>> apply, ref long validLength)
    {
        TailPosition? reached = null;
        var pending = new List<LogEvent>();
        var input = _reader.BaseStream;
        var applying = false;
        try
        {
            while (input.Position < length)
            {
                switch (_reader.ReadByte())
                {
                    case HistoryWriter.DefineString:
                        _strings.Add(MetricNames.Intern(_reader.ReadString()));
                        break;
                    case HistoryWriter.DefineLabels:
                        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
                        for (var count = _reader.Read7BitEncodedInt(); count > 0; count--)
                        {
                            labels[_strings[_reader.Read7BitEncodedInt()]] = _strings[_reader.Read7BitEncodedInt()];
                        }
                        _labelSets.Add(labels);
                        break;
                    case HistoryWriter.Signal:
                        pending.Add(ReadSignal());
                        break;
                    case HistoryWriter.Other:
                        pending.Add((_decoder ??= new EventDecoder()).FromArchive(ReadOther(), null));
                        break;
                    case HistoryWriter.SegmentEnd:
                        reached = new TailPosition(_reader.Read7BitEncodedInt64(), _reader.Read7BitEncodedInt64());
                        validLength = input.Position;
                        (_wholeStrings, _wholeLabelSets) = (_strings.Count, _labelSets.Count);
                        applying = true;
                        apply(pending);
                        applying = false;
                        pending = [];
                        break;
                    default:
                        return reached;
                }
            }
        }
        catch (Exception e) when (!applying && e is EndOfStreamException or ArgumentOutOfRangeException or FormatException)
        {
            // A segment cut short, or one naming what was never defined: everything before it stands.
        }
        finally
        {
            // What the unfinished segment defined is not there for whoever writes after the last whole one.
            _strings.RemoveRange(_wholeStrings, _strings.Count - _wholeStrings);
            _labelSets.RemoveRange(_wholeLabelSets, _labelSets.Count - _wholeLabelSets);
        }
        return reached;
    }

    public void Dispose() => _reader.Dispose();

    LogEvent ReadSignal()
    {
        var position = _reader.Read7BitEncodedInt64();
        var commit = _reader.Read7BitEncodedInt64();
        var stream = _strings[_reader.Read7BitEncodedInt()];
        var version = _reader.Read7BitEncodedInt64();
        var seq = _reader.Read7BitEncodedInt64();
        var ticks = _reader.ReadInt64();
        var offset = TimeSpan.FromMinutes(_reader.ReadInt16());
        var emittedAt = new DateTimeOffset(ticks + offset.Ticks, offset);
        var phase = _strings[_reader.Read7BitEncodedInt()];
        var labels = _labelSets[_reader.Read7BitEncodedInt()];
        var count = _reader.Read7BitEncodedInt();
        // Signals mostly carry the same names as the one before: they share that array.
        var names = _lastNames.Length == count ? _lastNames : new string[count];
        var values = new double[count];
        for (var i = 0; i < count; i++)
        {
            var name = _strings[_reader.Read7BitEncodedInt()];
            if (!ReferenceEquals(names[i], name))
            {
                if (ReferenceEquals(names, _lastNames))
                {
                    names = [.. _lastNames];
                }
                names[i] = name;
            }
            values[i] = _reader.ReadDouble();
        }
        _lastNames = names;
        var signal = new SignalRecorded(stream, seq, emittedAt, phase, MetricValues.Wrap(names, values), labels, null);
        return new LogEvent(new RecordedEvent(position, commit, stream, version, Guid.Empty, SignalRecorded.EventType, "", "{}", seq, emittedAt, emittedAt), signal);
    }

    RecordedEvent ReadOther()
    {
        var position = _reader.Read7BitEncodedInt64();
        var commit = _reader.Read7BitEncodedInt64();
        var stream = _strings[_reader.Read7BitEncodedInt()];
        var version = _reader.Read7BitEncodedInt64();
        var eventId = new Guid(_reader.ReadBytes(16));
        var type = _strings[_reader.Read7BitEncodedInt()];
        var data = _reader.ReadString();
        var seq = _reader.ReadInt64();
        var at = new DateTimeOffset(_reader.ReadInt64(), TimeSpan.Zero);
        return new RecordedEvent(position, commit, stream, version, eventId, type, data, "{}", seq < 0 ? null : seq, at, at);
    }
}
