using System.Text.Json;
using Streaming.Cli.Connection;

namespace Streaming.Cli.Http;

/// <summary>
/// Where the API is and which token to send: <c>--api</c>, else <c>STREAMING_API_URL</c>, else the <c>httpUrl</c> of the
/// embedded default's <c>endpoints.json</c>; the token from <c>--token-file</c>, else <c>STREAMING_API_TOKEN</c>. A
/// token is never taken from the command line, where other users and shell histories would see it.
/// </summary>
public sealed record ApiEndpoint(Uri BaseUrl, string Token)
{
    public const string UrlVariable = "STREAMING_API_URL";
    public const string TokenVariable = "STREAMING_API_TOKEN";

    public static ApiEndpoint Resolve(string? url, FileInfo? tokenFile, string? endpointsFile) => new(BaseUrlOf(url, endpointsFile), TokenOf(tokenFile));

    static Uri BaseUrlOf(string? url, string? endpointsFile)
    {
        var text = !string.IsNullOrWhiteSpace(url) ? url
            : Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment
            : FromEndpoints(endpointsFile)
              ?? throw new CommandFailedException($"no API given: pass --api URL, set {UrlVariable}, or run ./run.sh so .data/endpoints.json names it", 2);
        return Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https"
            ? parsed
            : throw new CommandFailedException($"the API address '{text}' is not an http or https URL", 2);
    }

    static string? FromEndpoints(string? endpointsFile)
    {
        if ((endpointsFile ?? StoreConnection.FindEndpointsFile()) is not { } path || !File.Exists(path))
        {
            return null;
        }
        using var endpoints = JsonDocument.Parse(File.ReadAllText(path));
        return endpoints.RootElement.TryGetProperty("httpUrl", out var value) && value.GetString() is { Length: > 0 } found ? found : null;
    }

    static string TokenOf(FileInfo? tokenFile)
    {
        string? token;
        if (tokenFile is not null)
        {
            token = tokenFile.Exists
                ? File.ReadAllText(tokenFile.FullName).Trim()
                : throw new CommandFailedException($"--token-file: {tokenFile.FullName} does not exist", 2);
        }
        else
        {
            token = Environment.GetEnvironmentVariable(TokenVariable)?.Trim();
        }
        if (string.IsNullOrEmpty(token))
        {
            throw new CommandFailedException(
                $"this command writes through the API and needs a token: --token-file FILE (the token alone in it) or {TokenVariable} " +
                "(make one with 'streaming token create --name NAME --role operator')", 2);
        }
        return token.Any(char.IsWhiteSpace) || token.Any(char.IsControl)
            ? throw new CommandFailedException("the token holds whitespace or control characters: the file or variable must hold the token alone", 2)
            : token;
    }
}
