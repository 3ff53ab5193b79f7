using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Streaming.Api.Problems;
using Streaming.Contracts.Text;

namespace Streaming.Api.Auth;

/// <summary>
/// Runs before authentication: a client address with too many failed authentications is refused with 429 and
/// <c>Retry-After</c> when it sends credentials again; afterwards, a 401 to a request that carried credentials counts
/// as a failure, and every refusal (401, 403, 429) is logged with the client and the actor when known, never a token.
/// </summary>
public sealed partial class AuthenticationGuard(RequestDelegate next, FailedAuthentications failures, ILogger<AuthenticationGuard> logger)
{
    public async Task InvokeAsync(HttpContext http)
    {
        var client = http.Connection.RemoteIpAddress ?? IPAddress.None;
        var credentials = CarriesCredentials(http.Request);
        if (credentials && failures.RetryAfter(client) is { } wait)
        {
            var seconds = (int)Math.Ceiling(wait.TotalSeconds);
            http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            LogRefused(StatusCodes.Status429TooManyRequests, http.Request.Method, Path(http), client, "(not checked)");
            await ApiProblems.WriteAsync(http, StatusCodes.Status429TooManyRequests,
                $"too many failed authentications from this address; try again in {seconds} s");
            return;
        }
        await next(http);
        var status = http.Response.StatusCode;
        if (status is StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden or StatusCodes.Status429TooManyRequests)
        {
            if (status == StatusCodes.Status401Unauthorized && credentials)
            {
                failures.Record(client);
            }
            LogRefused(status, http.Request.Method, Path(http), client, http.User.Identity?.Name is { Length: > 0 } name ? UntrustedText.Escape(name) : "(anonymous)");
        }
    }

    // A bearer token, or a token sent to sign in: what a guesser sends. A session cookie is a key no one can guess.
    static bool CarriesCredentials(HttpRequest request) =>
        request.Headers.Authorization.Count > 0
        || HttpMethods.IsPost(request.Method) && request.Path.StartsWithSegments(SessionEndpoints.Path, StringComparison.OrdinalIgnoreCase);

    static string Path(HttpContext http) => UntrustedText.Escape(http.Request.Path.Value);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audit: refused {Status} {Method} {Path} from {Client} (actor {Actor})")]
    partial void LogRefused(int status, string method, string path, IPAddress client, string actor);
}
