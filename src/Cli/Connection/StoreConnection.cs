using System.Text.Json;

namespace Streaming.Cli.Connection;

/// <summary>
/// Where the event store is: <c>--connection</c>, else <c>ConnectionStrings__EventStore</c>, else the
/// <c>postgresConnectionString</c> of the embedded default's <c>endpoints.json</c> (<c>--endpoints</c>,
/// <c>$STREAMING_DATA/endpoints.json</c>, or <c>.data/endpoints.json</c> in this folder or one above it).
/// </summary>
public static class StoreConnection
{
    public static string Resolve(string? connection, string? endpointsFile)
    {
        if (!string.IsNullOrWhiteSpace(connection))
        {
            return connection;
        }
        if (Environment.GetEnvironmentVariable("ConnectionStrings__EventStore") is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }
        var path = endpointsFile ?? FindEndpointsFile()
            ?? throw new CommandFailedException("no event store given: pass --connection, set ConnectionStrings__EventStore, or run ./run.sh so .data/endpoints.json exists");
        if (!File.Exists(path))
        {
            throw new CommandFailedException($"{path} does not exist (is ./run.sh running?)");
        }
        using var endpoints = JsonDocument.Parse(File.ReadAllText(path));
        return endpoints.RootElement.TryGetProperty("postgresConnectionString", out var value) && value.GetString() is { Length: > 0 } found
            ? found
            : throw new CommandFailedException($"{path} has no postgresConnectionString");
    }

    public static string? FindEndpointsFile()
    {
        if (Environment.GetEnvironmentVariable("STREAMING_DATA") is { Length: > 0 } data)
        {
            return Path.Combine(data, "endpoints.json");
        }
        for (var directory = new DirectoryInfo(Environment.CurrentDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, ".data", "endpoints.json");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }
}
