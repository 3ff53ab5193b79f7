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

    public static readonly Option<string?> Api = new("--api")
    {
        Description = "the API's address, for commands that write (default: $STREAMING_API_URL, then the httpUrl of endpoints.json)",
        Recursive = true,
    };

    public static readonly Option<FileInfo?> TokenFile = new("--token-file")
    {
        Description = "a file holding the API token to write with (default: $STREAMING_API_TOKEN); never pass a token itself as an argument",
        Recursive = true,
    };

    public static readonly Option<bool> Json = new("--json") { Description = "print the result as JSON, for scripts", Recursive = true };
}
