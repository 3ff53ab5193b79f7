using System.Globalization;

namespace Streaming.JobClient.Signals;

/// <summary>
/// The job's <c>seq</c>: strictly increasing across restarts. Each number is at least the clock in microseconds since
/// 1970, so a restarted job continues above where it stopped; with a state folder, the numbers are also reserved a
/// block at a time in a file before use, so they keep increasing when the clock steps back.
/// </summary>
sealed class SequenceNumbers
{
    // A minute of microseconds: a job reporting once a minute or faster writes the file about once a minute.
    const long Block = 60_000_000;

    readonly Lock _lock = new();
    readonly string? _file;
    readonly TimeProvider _clock;
    long _last;
    long _reserved;

    public SequenceNumbers(string jobId, string? stateDirectory, TimeProvider clock)
    {
        _clock = clock;
        if (stateDirectory is null)
        {
            return;
        }
        Directory.CreateDirectory(stateDirectory);
        _file = Path.Combine(stateDirectory, $"seq-{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(jobId)))[..16]}.txt");
        if (File.Exists(_file) && long.TryParse(File.ReadAllText(_file).Trim(), CultureInfo.InvariantCulture, out var reserved))
        {
            // Numbers up to the reservation may have been used before the restart.
            _last = _reserved = reserved;
        }
    }

    public long Next()
    {
        lock (_lock)
        {
            _last = Math.Max(_last + 1, _clock.GetUtcNow().ToUnixTimeMilliseconds() * 1000);
            if (_file is not null && _last > _reserved)
            {
                Reserve(_last + Block);
            }
            return _last;
        }
    }

    void Reserve(long upTo)
    {
        var temporary = _file + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 64, FileOptions.WriteThrough))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(upTo.ToString(CultureInfo.InvariantCulture));
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, _file!, overwrite: true);
        _reserved = upTo;
    }
}
