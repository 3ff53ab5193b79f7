using System.Globalization;

namespace Streaming.Bench.Marten;

/// <summary>
/// The peer's command line: <c>append</c> consumes the signal topic into Marten (with the daemon projecting alongside
/// unless the projection is <c>none</c>); <c>rebuild</c> has the daemon rebuild a projection over the store.
/// </summary>
public sealed record PeerSettings(
    string Mode,
    string ConnectionString,
    string? BootstrapServers,
    string Topic,
    string ConsumerGroup,
    int Writers,
    int BatchSize,
    int DaemonBatchSize,
    ProjectionChoice Projection)
{
    public static PeerSettings Parse(string[] args)
    {
        if (args.Length == 0 || args[0] is not ("append" or "rebuild"))
        {
            throw new ArgumentException("usage: append|rebuild --postgres CS [--bootstrap SERVERS --topic T --group G --writers N --batch N] [--projection none|sql|aggregate] [--daemon-batch N]");
        }
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 1; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 == args.Length)
            {
                throw new ArgumentException($"unexpected '{args[i]}'");
            }
            values[args[i][2..]] = args[i + 1];
        }
        int Number(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        var settings = new PeerSettings(
            args[0],
            values.TryGetValue("postgres", out var postgres) ? postgres : throw new ArgumentException("--postgres is required"),
            values.GetValueOrDefault("bootstrap"),
            values.GetValueOrDefault("topic", "job-signals"),
            values.GetValueOrDefault("group", "marten-peer"),
            Number("writers", 2),
            Number("batch", 2_000),
            Number("daemon-batch", 5_000),
            Enum.Parse<ProjectionChoice>(values.GetValueOrDefault("projection", "sql"), ignoreCase: true));
        if (settings.Mode == "append" && settings.BootstrapServers is null)
        {
            throw new ArgumentException("append needs --bootstrap");
        }
        if (settings.Mode == "rebuild" && settings.Projection == ProjectionChoice.None)
        {
            throw new ArgumentException("rebuild needs a --projection to rebuild");
        }
        return settings;
    }
}
