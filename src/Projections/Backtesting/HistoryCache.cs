using System.IO.MemoryMappedFiles;
using System.Text;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Lifecycle;

namespace Streaming.Projections.Backtesting;

/// <summary>
/// A compact local copy of the log for backtests: signals in binary (names, phases and label sets written once), every
/// other event as stored, in log order, in segments that each end with the log position they reach. A backtest replays
/// the copy at memory speed and reads from PostgreSQL only what was appended since, adding it to the copy. A copy made
/// from another log (its first event differs) or cut short by a crash is trimmed or started again, never trusted past
/// its last whole segment.
/// </summary>
public sealed class HistoryCache(string path)
{
    const uint Magic = 0x31434853; // "SHC1"
    const byte DefineString = 1, DefineLabels = 2, Signal = 3, Other = 4, SegmentEnd = 9;

    readonly Dictionary<string, int> _strings = new(StringComparer.Ordinal);
    readonly List<string> _stringList = [];
    readonly Dictionary<IReadOnlyDictionary<string, string>, int> _labelSets = new(ReferenceEqualityComparer.Instance);
    readonly Dictionary<string, int> _labelKeys = new(StringComparer.Ordinal);
    readonly List<IReadOnlyDictionary<string, string>> _labelList = [];
    FileStream? _file;
    BinaryWriter? _writer;

    public string Path => path;

    /// <summary>
    /// Replays the copy of the log whose first event is <paramref name="origin"/> into <paramref name="apply"/>, a
    /// segment at a time (each event with its signal already read, or null), and returns the log position it reaches,
    /// or null when there is no usable copy. The file is then open for <see cref="Append"/>.
    /// </summary>
    public TailPosition? Replay(Guid origin, Action<IReadOnlyList<(RecordedEvent Event, SignalRecorded? Signal)>> apply)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        _file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1 << 20);
        TailPosition? reached = null;
        long validLength = 0;
        if (_file.Length > 0)
        {
            // Read through a mapping of the file: no copies and no locking per read, which a FileStream would add.
            using var map = MemoryMappedFile.CreateFromFile(_file, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            using var view = map.CreateViewStream(0, 0, MemoryMappedFileAccess.Read);
            using var reader = new BinaryReader(view, Encoding.UTF8, leaveOpen: true);
            try
            {
                if (reader.ReadUInt32() == Magic && new Guid(reader.ReadBytes(16)) == origin)
                {
                    validLength = view.Position;
                    reached = ReadSegments(reader, _file.Length, apply, ref validLength);
                }
            }
            catch (EndOfStreamException)
            {
                // A segment cut short: everything before it stands.
            }
        }
        if (validLength == 0)
        {
            Reset();
            _file.SetLength(0);
            _writer = new BinaryWriter(_file, Encoding.UTF8, leaveOpen: true);
            _writer.Write(Magic);
            _writer.Write(origin.ToByteArray());
            _writer.Flush();
            return null;
        }
        _file.SetLength(validLength);
        _file.Position = validLength;
        _writer = new BinaryWriter(_file, Encoding.UTF8, leaveOpen: true);
        return reached;
    }

    /// <summary>Adds events read from the log (with their signals already read, or null) to the open copy.</summary>
    public void Append(RecordedEvent recorded, SignalRecorded? signal)
    {
        var writer = _writer ?? throw new InvalidOperationException("Replay the cache before appending to it");
        if (signal is not null)
        {
            var stream = StringIndex(writer, recorded.StreamId);
            var phase = StringIndex(writer, signal.Phase);
            var labels = LabelIndex(writer, signal.Labels);
            Span<int> names = stackalloc int[signal.Metrics.Count];
            var i = 0;
            foreach (var name in signal.Metrics.Keys)
            {
                names[i++] = StringIndex(writer, name);
            }
            writer.Write(Signal);
            writer.Write7BitEncodedInt64(recorded.GlobalPosition);
            writer.Write7BitEncodedInt64((long)recorded.TxId);
            writer.Write7BitEncodedInt(stream);
            writer.Write7BitEncodedInt64(recorded.Version);
            writer.Write7BitEncodedInt64(signal.Seq);
            writer.Write(signal.EmittedAt.UtcTicks);
            writer.Write((short)signal.EmittedAt.Offset.TotalMinutes);
            writer.Write7BitEncodedInt(phase);
            writer.Write7BitEncodedInt(labels);
            writer.Write7BitEncodedInt(names.Length);
            i = 0;
            foreach (var value in signal.Metrics.Values)
            {
                writer.Write7BitEncodedInt(names[i++]);
                writer.Write(value);
            }
            return;
        }
        var streamId = StringIndex(writer, recorded.StreamId);
        var type = StringIndex(writer, recorded.Type);
        writer.Write(Other);
        writer.Write7BitEncodedInt64(recorded.GlobalPosition);
        writer.Write7BitEncodedInt64((long)recorded.TxId);
        writer.Write7BitEncodedInt(streamId);
        writer.Write7BitEncodedInt64(recorded.Version);
        writer.Write(recorded.EventId.ToByteArray());
        writer.Write7BitEncodedInt(type);
        writer.Write(recorded.Data);
        writer.Write(recorded.Seq ?? -1);
        writer.Write(recorded.EventTime.UtcTicks);
    }

    /// <summary>Closes a segment at <paramref name="reached"/> and makes it durable.</summary>
    public void EndSegment(TailPosition reached)
    {
        var writer = _writer ?? throw new InvalidOperationException("Replay the cache before appending to it");
        writer.Write(SegmentEnd);
        writer.Write7BitEncodedInt64((long)reached.TxId);
        writer.Write7BitEncodedInt64(reached.GlobalPosition);
        writer.Flush();
        _file!.Flush(flushToDisk: true);
    }

    public void Close()
    {
        _writer?.Dispose();
        _file?.Dispose();
        _writer = null;
        _file = null;
    }

    TailPosition? ReadSegments(BinaryReader reader, long length, Action<IReadOnlyList<(RecordedEvent Event, SignalRecorded? Signal)>> apply, ref long validLength)
    {
        TailPosition? reached = null;
        var pending = new List<(RecordedEvent Event, SignalRecorded? Signal)>();
        var file = reader.BaseStream;
        while (file.Position < length)
        {
            switch (reader.ReadByte())
            {
                case DefineString:
                    var text = MetricNames.Intern(reader.ReadString());
                    _strings[text] = _stringList.Count;
                    _stringList.Add(text);
                    break;
                case DefineLabels:
                    var labels = new Dictionary<string, string>(StringComparer.Ordinal);
                    for (var count = reader.Read7BitEncodedInt(); count > 0; count--)
                    {
                        labels[_stringList[reader.Read7BitEncodedInt()]] = _stringList[reader.Read7BitEncodedInt()];
                    }
                    _labelKeys[LabelKey(labels)] = _labelList.Count;
                    _labelList.Add(labels);
                    break;
                case Signal:
                    pending.Add(ReadSignal(reader));
                    break;
                case Other:
                    var position = reader.Read7BitEncodedInt64();
                    var txId = (ulong)reader.Read7BitEncodedInt64();
                    var stream = _stringList[reader.Read7BitEncodedInt()];
                    var version = reader.Read7BitEncodedInt64();
                    var eventId = new Guid(reader.ReadBytes(16));
                    var type = _stringList[reader.Read7BitEncodedInt()];
                    var data = reader.ReadString();
                    var seq = reader.ReadInt64();
                    var at = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
                    pending.Add((new RecordedEvent(position, txId, stream, version, eventId, type, data, "{}", seq < 0 ? null : seq, at, at), null));
                    break;
                case SegmentEnd:
                    reached = new TailPosition((ulong)reader.Read7BitEncodedInt64(), reader.Read7BitEncodedInt64());
                    apply(pending);
                    pending = [];
                    validLength = file.Position;
                    break;
                default:
                    return reached;
            }
        }
        return reached;
    }

    (RecordedEvent, SignalRecorded) ReadSignal(BinaryReader reader)
    {
        var position = reader.Read7BitEncodedInt64();
        var txId = (ulong)reader.Read7BitEncodedInt64();
        var stream = _stringList[reader.Read7BitEncodedInt()];
        var version = reader.Read7BitEncodedInt64();
        var seq = reader.Read7BitEncodedInt64();
        var ticks = reader.ReadInt64();
        var offset = TimeSpan.FromMinutes(reader.ReadInt16());
        var emittedAt = new DateTimeOffset(ticks + offset.Ticks, offset);
        var phase = _stringList[reader.Read7BitEncodedInt()];
        var labels = _labelList[reader.Read7BitEncodedInt()];
        var count = reader.Read7BitEncodedInt();
        var names = new string[count];
        var values = new double[count];
        for (var i = 0; i < count; i++)
        {
            names[i] = _stringList[reader.Read7BitEncodedInt()];
            values[i] = reader.ReadDouble();
        }
        var signal = new SignalRecorded(stream, seq, emittedAt, phase, MetricValues.Wrap(names, values), labels, null);
        return (new RecordedEvent(position, txId, stream, version, Guid.Empty, SignalRecorded.EventType, "", "{}", seq, emittedAt, emittedAt), signal);
    }

    int StringIndex(BinaryWriter writer, string text)
    {
        if (_strings.TryGetValue(text, out var index))
        {
            return index;
        }
        index = _stringList.Count;
        _strings[text] = index;
        _stringList.Add(text);
        writer.Write(DefineString);
        writer.Write(text);
        return index;
    }

    int LabelIndex(BinaryWriter writer, IReadOnlyDictionary<string, string> labels)
    {
        if (_labelSets.TryGetValue(labels, out var index))
        {
            return index;
        }
        var key = LabelKey(labels);
        if (!_labelKeys.TryGetValue(key, out index))
        {
            var pairs = labels.Select(l => (StringIndex(writer, l.Key), StringIndex(writer, l.Value))).ToList();
            index = _labelList.Count;
            _labelKeys[key] = index;
            _labelList.Add(labels);
            writer.Write(DefineLabels);
            writer.Write7BitEncodedInt(pairs.Count);
            foreach (var (name, value) in pairs)
            {
                writer.Write7BitEncodedInt(name);
                writer.Write7BitEncodedInt(value);
            }
        }
        if (_labelSets.Count < 100_000)
        {
            _labelSets[labels] = index;
        }
        return index;
    }

    static string LabelKey(IReadOnlyDictionary<string, string> labels) =>
        string.Join('\u001f', labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + '\u001e' + l.Value));

    void Reset()
    {
        _strings.Clear();
        _stringList.Clear();
        _labelSets.Clear();
        _labelKeys.Clear();
        _labelList.Clear();
    }
}
