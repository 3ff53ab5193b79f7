using System.Globalization;

namespace Streaming.Supervisor;

/// <summary>
/// Every line the supervised processes write, and the supervisor's own, on standard output with the writer's name in
/// front (<c>ingest    | …</c>), and each process's lines also in its own file under <c>logs/</c>, kept across restarts
/// (a file past 20 MB is moved to <c>NAME.log.1</c> when its process starts).
/// </summary>
public sealed class SupervisorLog(string directory, int nameWidth) : IDisposable
{
    public const string Self = "supervisor";
    const long MaxFileBytes = 20 * 1024 * 1024;

    readonly Lock _lock = new();
    readonly Dictionary<string, StreamWriter> _files = new(StringComparer.Ordinal);

    public void Info(string message) => Write(Self, message);

    /// <summary>Starts a new section of a process's file, rotating it when it grew too big.</summary>
    public void Opened(string name, int pid)
    {
        lock (_lock)
        {
            Close(name);
            Directory.CreateDirectory(directory);
            var path = Path.Combine(directory, name + ".log");
            if (File.Exists(path) && new FileInfo(path).Length > MaxFileBytes)
            {
                File.Move(path, path + ".1", overwrite: true);
            }
            var file = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
            file.WriteLine($"--- {DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture)} started, pid {pid}");
            _files[name] = file;
        }
    }

    public void Write(string name, string line)
    {
        lock (_lock)
        {
            Console.Out.WriteLine($"{name.PadRight(nameWidth)} | {line}");
            if (_files.TryGetValue(name, out var file))
            {
                file.WriteLine(line);
            }
        }
    }

    public void Closed(string name)
    {
        lock (_lock)
        {
            Close(name);
        }
    }

    void Close(string name)
    {
        if (_files.Remove(name, out var file))
        {
            file.Dispose();
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var name in _files.Keys.ToList())
            {
                Close(name);
            }
        }
    }
}
