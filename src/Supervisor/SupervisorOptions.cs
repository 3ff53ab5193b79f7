using System.Globalization;

namespace Streaming.Supervisor;

/// <summary>How the supervisor runs, from its command line.</summary>
public sealed record SupervisorOptions(
    string ProcfilePath,
    string RunDirectory,
    string EndpointsFile,
    IReadOnlySet<string> Without,
    IReadOnlyDictionary<string, string> Endpoints,
    IReadOnlyDictionary<string, int> Instances,
    int MaxRestarts,
    TimeSpan RestartWindow,
    TimeSpan ReadyTimeout,
    TimeSpan StopTimeout)
{
    public const string Usage = """
        usage: Streaming.Supervisor --procfile FILE --run-dir DIR [options]
          --procfile FILE          the processes, one a line: NAME: COMMAND, or NAME ready: COMMAND
          --run-dir DIR            where announcements (DIR/announce) and per-process logs (DIR/logs) go
          --endpoints-file PATH    the endpoints file to keep (default DIR/endpoints.json)
          --without NAME           do not start NAME; '*' matches any characters, e.g. sample-* (repeatable)
          --endpoint NAME=VALUE    a field of the endpoints file (repeatable)
          --instances NAME=N       run NAME as N processes NAME-1 .. NAME-N, each told its index in STREAMING_INSTANCE (repeatable)
          --max-restarts N         give up when a process failed more than N times within the window (default 5)
          --restart-window TIME    that window (default 60s)
          --ready-timeout TIME     how long a 'ready' process may take to announce itself (default 120s)
          --stop-timeout TIME      how long a process may take to stop before it is killed (default 30s)
        """;

    public static SupervisorOptions Parse(string[] args)
    {
        string? procfile = null, runDirectory = null, endpointsFile = null;
        var without = new HashSet<string>(StringComparer.Ordinal);
        var endpoints = new Dictionary<string, string>(StringComparer.Ordinal);
        var instances = new Dictionary<string, int>(StringComparer.Ordinal);
        int maxRestarts = 5;
        TimeSpan window = TimeSpan.FromSeconds(60), ready = TimeSpan.FromSeconds(120), stop = TimeSpan.FromSeconds(30);
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--procfile": procfile = Value(); break;
                case "--run-dir": runDirectory = Value(); break;
                case "--endpoints-file": endpointsFile = Value(); break;
                case "--without": without.Add(Value()); break;
                case "--endpoint":
                    var pair = Value();
                    var equals = pair.IndexOf('=', StringComparison.Ordinal);
                    if (equals <= 0)
                    {
                        throw new ArgumentException($"--endpoint takes NAME=VALUE, not '{pair}'");
                    }
                    endpoints[pair[..equals]] = pair[(equals + 1)..];
                    break;
                case "--instances":
                    var copies = Value();
                    var at = copies.IndexOf('=', StringComparison.Ordinal);
                    if (at <= 0 || !int.TryParse(copies[(at + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1)
                    {
                        throw new ArgumentException($"--instances takes NAME=N with N at least 1, not '{copies}'");
                    }
                    instances[copies[..at]] = count;
                    break;
                case "--max-restarts": maxRestarts = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--restart-window": window = Duration(Value()); break;
                case "--ready-timeout": ready = Duration(Value()); break;
                case "--stop-timeout": stop = Duration(Value()); break;
                default: throw new ArgumentException($"unknown argument '{args[i]}'");
            }
        }
        if (procfile is null || runDirectory is null)
        {
            throw new ArgumentException("--procfile and --run-dir are required");
        }
        runDirectory = Path.GetFullPath(runDirectory);
        return new SupervisorOptions(
            Path.GetFullPath(procfile), runDirectory, Path.GetFullPath(endpointsFile ?? Path.Combine(runDirectory, "endpoints.json")),
            without, endpoints, instances, maxRestarts, window, ready, stop);
    }

    /// <summary>A duration as <c>250ms</c>, <c>30s</c>, <c>2m</c>, or <c>hh:mm:ss</c>.</summary>
    static TimeSpan Duration(string text)
    {
        if (text.EndsWith("ms", StringComparison.Ordinal))
        {
            return TimeSpan.FromMilliseconds(double.Parse(text[..^2], CultureInfo.InvariantCulture));
        }
        if (text.EndsWith('s'))
        {
            return TimeSpan.FromSeconds(double.Parse(text[..^1], CultureInfo.InvariantCulture));
        }
        if (text.EndsWith('m'))
        {
            return TimeSpan.FromMinutes(double.Parse(text[..^1], CultureInfo.InvariantCulture));
        }
        return TimeSpan.Parse(text, CultureInfo.InvariantCulture);
    }
}
