using System.Text.Json;

namespace Streaming.Cli.Connection;

/// <summary>
/// Where the event store is: <c>--connection</c>, else <c>ConnectionStrings__EventStore</c>, else the
/// <c>postgresConnectionString</c> of the embedded default's <c>endpoints.json</c> (<c>--endpoints</c>,
/// <c>$STREAMING_DATA/endpoints.json</c>, or <c>.data/endpoints.json</c> in this folder or one above it). A store sharded
/// over several clusters names its other shards as its services are told them (<c>Store__Shards</c> and
/// <c>ConnectionStrings__EventStoreShard1</c> …) or as <c>./run.sh --shards</c> writes them to <c>endpoints.json</c>
/// (<c>postgresShard1ConnectionString</c> …).
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

    /// <summary>The connection strings of shards 1, 2, … (none for a store of one shard).</summary>
    public static IReadOnlyList<string> ResolveOtherShards(string? endpointsFile)
    {
        if (Environment.GetEnvironmentVariable("Store__Shards") is { Length: > 0 } count)
        {
            if (!int.TryParse(count, out var shards) || shards < 1)
            {
                throw new CommandFailedException($"Store__Shards must be a positive number, not {count}");
            }
            return
            [
                .. Enumerable.Range(1, shards - 1).Select(shard => Environment.GetEnvironmentVariable($"ConnectionStrings__EventStoreShard{shard}") is { Length: > 0 } found
                    ? found
                    : throw new CommandFailedException($"Store__Shards is {shards}, so ConnectionStrings__EventStoreShard{shard} is required")),
            ];
        }
        if ((endpointsFile ?? FindEndpointsFile()) is not { } path || !File.Exists(path))
        {
            return [];
        }
        using var endpoints = JsonDocument.Parse(File.ReadAllText(path));
        var others = new List<string>();
        while (endpoints.RootElement.TryGetProperty($"postgresShard{others.Count + 1}ConnectionString", out var value) && value.GetString() is { Length: > 0 } found)
        {
            others.Add(found);
        }
        return others;
    }

    /// <summary>
    /// The connection strings of shards 1 … <paramref name="shards"/> − 1, each named as the services are told it
    /// (<c>ConnectionStrings__EventStoreShard{k}</c>) or as <c>./run.sh --shards</c> writes it to <c>endpoints.json</c>;
    /// unlike <see cref="ResolveOtherShards"/> the count is the caller's, so shards the store does not use yet can be named.
    /// </summary>
    public static IReadOnlyList<string> ResolveShards(int shards, string? endpointsFile)
    {
        var path = endpointsFile ?? FindEndpointsFile();
        using var endpoints = path is not null && File.Exists(path) ? JsonDocument.Parse(File.ReadAllText(path)) : null;
        return
        [
            .. Enumerable.Range(1, shards - 1).Select(shard =>
                Environment.GetEnvironmentVariable($"ConnectionStrings__EventStoreShard{shard}") is { Length: > 0 } found
                    ? found
                    : endpoints is not null && endpoints.RootElement.TryGetProperty($"postgresShard{shard}ConnectionString", out var value) && value.GetString() is { Length: > 0 } written
                        ? written
                        : throw new CommandFailedException($"shard {shard} has no connection string: set ConnectionStrings__EventStoreShard{shard}")),
        ];
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
