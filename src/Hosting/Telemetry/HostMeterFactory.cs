using System.Diagnostics.Metrics;

namespace Streaming.Hosting.Telemetry;

/// <summary>
/// A meter factory that creates the meters a host asks for by <see cref="StreamingTelemetry.MeterName"/> under another
/// name (<c>Telemetry:MeterName</c>), so that hosts sharing a process (the tests' hosts; a deployed process runs one)
/// hear only the instruments of the hosts named alike. OpenTelemetry merges same-named instruments of same-named meters
/// into one stream and drops that stream when any one of those meters is disposed
/// (open-telemetry/opentelemetry-dotnet#6412): without distinct names, one test host stopping silenced another's metrics.
/// Other meters are created as the default factory does: one per name and version, disposed with the host.
/// </summary>
public sealed class HostMeterFactory(string streamingMeterName) : IMeterFactory
{
    readonly Dictionary<(string Name, string? Version), Meter> _meters = [];
    bool _disposed;

    public Meter Create(MeterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var name = options.Name == StreamingTelemetry.MeterName ? streamingMeterName : options.Name;
        lock (_meters)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_meters.TryGetValue((name, options.Version), out var meter))
            {
                meter = new Meter(new MeterOptions(name) { Version = options.Version, Tags = options.Tags, Scope = this });
                _meters.Add((name, options.Version), meter);
            }
            return meter;
        }
    }

    public void Dispose()
    {
        lock (_meters)
        {
            _disposed = true;
            foreach (var meter in _meters.Values)
            {
                meter.Dispose();
            }
            _meters.Clear();
        }
    }
}
