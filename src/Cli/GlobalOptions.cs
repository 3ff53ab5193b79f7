using System.CommandLine;

namespace Streaming.Cli;

/// <summary>Options every command takes.</summary>
public static class GlobalOptions
{
    public static readonly Option<string?> Connection = new("--connection")
    {
        Description = "PostgreSQL connection string of the event store (default: ConnectionStrings__EventStore, then .data/endpoints.json)",
        Recursive = true,
    };

    public static readonly Option<string?> Endpoints = new("--endpoints")
    {
        Description = "the endpoints.json of a running embedded default (default: $STREAMING_DATA/endpoints.json or .data/endpoints.json)",
        Recursive = true,
    };

    public static readonly Option<bool> Json = new("--json") { Description = "print the result as JSON, for scripts", Recursive = true };
}
