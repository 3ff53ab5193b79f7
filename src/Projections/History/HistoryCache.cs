using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using Streaming.EventStore;
using Streaming.Projections.Tail;

namespace Streaming.Projections.History;

/// <summary>
/// A compact local copy of the log for backtests (<see cref="HistoryWriter"/>'s encoding), in log order, in segments
/// that each end with the log position they reach. A backtest replays the copy at memory speed and reads from
/// PostgreSQL only what was appended since, adding it to the copy. A copy made from another log (its first event
/// differs) or cut short by a crash is trimmed or started again, never trusted past its last whole segment.
/// </summary>
public sealed class HistoryCache(string path)
{
    const uint Magic = 0x32434853; // "SHC2": positions by commit (a copy by transaction id is started again)

    FileStream? _file;
    HistoryWriter? _writer;

    public string Path => path;

    /// <summary>
    /// Replays the copy of the log whose first event is <paramref name="origin"/> into <paramref name="apply"/>, a
    /// segment at a time (signals already read), and returns the log position it reaches,
    /// or null when there is no usable copy. The file is then open for <see cref="Append"/>.
    /// </summary>
    public TailPosition? Replay(Guid origin, Action<IReadOnlyList<LogEvent>> apply)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        _file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1 << 20);
        TailPosition? reached = null;
        long validLength = 0;
        HistoryReader? known = null;
        if (_file.Length >= sizeof(uint) + 16)
        {
            // Read through a mapping of the file: no copies and no locking per read, which a FileStream would add.
            using var map = MemoryMappedFile.CreateFromFile(_file, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            using var view = map.CreateViewStream(0, 0, MemoryMappedFileAccess.Read);
            using var header = new BinaryReader(view);
            if (header.ReadUInt32() == Magic && new Guid(header.ReadBytes(16)) == origin)
            {
                validLength = view.Position;
                known = new HistoryReader(view);
                reached = known.ReadSegments(_file.Length, apply, ref validLength);
            }
        }
        if (known is null)
        {
            _file.SetLength(0);
            Span<byte> magic = stackalloc byte[sizeof(uint)];
            BinaryPrimitives.WriteUInt32LittleEndian(magic, Magic);
            _file.Write(magic);
            _file.Write(origin.ToByteArray());
            _file.Flush();
            _writer = new HistoryWriter(_file);
            return null;
        }
        _file.SetLength(validLength);
        _file.Position = validLength;
        _writer = new HistoryWriter(_file);
        _writer.Know(known);
        return reached;
    }

    /// <summary>
    /// Adds events read from the store to the open copy as a segment that
    /// reaches <paramref name="reached"/>, and makes it durable.
    /// </summary>
    public void AppendSegment(IReadOnlyList<LogEvent> events, TailPosition reached)
    {
        var writer = _writer ?? throw new InvalidOperationException("Replay the cache before appending to it");
        foreach (var logEvent in events)
        {
            writer.Write(logEvent);
        }
        writer.EndSegment(reached);
        _file!.Flush(flushToDisk: true);
    }

    public void Close()
    {
        _writer?.Dispose();
        _file?.Dispose();
        _writer = null;
        _file = null;
    }
}
