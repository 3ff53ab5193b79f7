using System.Globalization;
using System.Threading.Channels;

namespace Streaming.Supervisor;

/// <summary>
/// Every line the supervised processes write, and the supervisor's own, on standard output with the writer's name in
/// front (<c>ingest    | …</c>), and each process's lines also in its own file under <c>logs/</c>, kept across restarts
/// (a file past 20 MB is moved to <c>NAME.log.1</c>, replacing the one before). Lines are queued and written by one
/// writer, flushed whenever the queue is empty, so a slow terminal never holds up a process writing its log.
/// </summary>
public sealed class SupervisorLog : IAsyncDisposable
{
    public const string Self = "supervisor";
    const long MaxFileBytes = 20 * 1024 * 1024;

    readonly string _directory;
    readonly int _nameWidth;
    readonly Channel<Entry> _entries = Channel.CreateUnbounded<Entry>(new UnboundedChannelOptions { SingleReader = true });
    readonly Dictionary<string, StreamWriter> _files = new(StringComparer.Ordinal);
    readonly StreamWriter _console = new(Console.OpenStandardOutput()) { AutoFlush = false };
    readonly Task _writing;

    public SupervisorLog(string directory, int nameWidth)
    {
        _directory = directory;
        _nameWidth = nameWidth;
        _writing = Task.Run(WriteAsync);
    }

    public void Info(string message) => Write(Self, message);

    /// <summary>Starts a new section of a process's file, rotating it when it grew too big.</summary>
    public void Opened(string name, int pid) => _entries.Writer.TryWrite(new Entry(name, null, pid));

    public void Write(string name, string line) => _entries.Writer.TryWrite(new Entry(name, line, null));

    public void Closed(string name) => _entries.Writer.TryWrite(new Entry(name, null, null));

    async Task WriteAsync()
    {
        var reader = _entries.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (reader.TryRead(out var entry))
            {
                switch (entry)
                {
                    case { Line: { } line }:
                        _console.WriteLine($"{entry.Name.PadRight(_nameWidth)} | {line}");
                        if (_files.TryGetValue(entry.Name, out var file))
                        {
                            file.WriteLine(line);
                            if (file.BaseStream.Position > MaxFileBytes)
                            {
                                Rotate(entry.Name);
                            }
                        }
                        break;
                    case { Pid: { } pid }:
                        Open(entry.Name, pid);
                        break;
                    default:
                        Close(entry.Name);
                        break;
                }
            }
            _console.Flush();
            foreach (var file in _files.Values)
            {
                file.Flush();
            }
        }
    }

    void Open(string name, int pid)
    {
        Close(name);
        Directory.CreateDirectory(_directory);
        var path = Path.Combine(_directory, name + ".log");
        if (File.Exists(path) && new FileInfo(path).Length > MaxFileBytes)
        {
            File.Move(path, path + ".1", overwrite: true);
        }
        var file = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite));
        file.WriteLine($"--- {DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture)} started, pid {pid}");
        _files[name] = file;
    }

    void Rotate(string name)
    {
        Close(name);
        var path = Path.Combine(_directory, name + ".log");
        File.Move(path, path + ".1", overwrite: true);
        _files[name] = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite));
    }

    void Close(string name)
    {
        if (_files.Remove(name, out var file))
        {
            file.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _entries.Writer.TryComplete();
        await _writing;
        foreach (var name in _files.Keys.ToList())
        {
            Close(name);
        }
        await _console.DisposeAsync();
    }

    readonly record struct Entry(string Name, string? Line, int? Pid);
}
