using System.Globalization;

namespace Streaming.SampleJob;

/// <summary>
/// Event time that runs <c>speed</c> times faster than real time from a start. With a state folder it remembers how far
/// it got, and a restarted job goes on from there instead of going back in event time.
/// </summary>
sealed class AcceleratedClock : TimeProvider
{
    readonly DateTimeOffset _start;
    readonly double _speed;
    readonly DateTimeOffset _origin = DateTimeOffset.UtcNow;
    readonly string? _file;

    public AcceleratedClock(DateTimeOffset start, double speed, string? stateDirectory)
    {
        _speed = speed;
        _start = start;
        if (stateDirectory is not null)
        {
            Directory.CreateDirectory(stateDirectory);
            _file = Path.Combine(stateDirectory, "event-time.txt");
            if (File.Exists(_file) && DateTimeOffset.TryParse(File.ReadAllText(_file), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var reached) && reached > start)
            {
                _start = reached;
            }
        }
    }

    public override DateTimeOffset GetUtcNow() => _start + (DateTimeOffset.UtcNow - _origin) * _speed;

    /// <summary>Records how far event time got, for the next start.</summary>
    public void Save()
    {
        if (_file is not null)
        {
            File.WriteAllText(_file, GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
        }
    }
}
