using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Streaming.Api.Problems;

namespace Streaming.Api.Auth;

/// <summary>
/// The browser's sign-in: a token is exchanged for an HttpOnly, SameSite=Strict session cookie (the session itself is
/// held by <see cref="SessionStore"/>) and a CSRF token the page sends with its writes. Sign-in and sign-out are logged
/// with the actor and the client's address.
/// </summary>
public static partial class SessionEndpoints
{
    public const string Path = "/auth/session";

    /// <summary>A sign-in body holds one token: anything larger is refused by Kestrel before it is read.</summary>
    public const long MaxSignInBytes = 8 * 1024;

    public sealed record SignIn(string? Token);

    /// <summary>Who is signed in; all null when nobody is (answered with 200, so a page can ask before it signs in).</summary>
    public sealed record Session(string? Name, string? Role, string? Csrf);

    public static void MapSessionEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup(Path).WithTags("Sign-in");
        BodyLimit.Limit(group.MapPost("", SignInAsync), MaxSignInBytes).AllowAnonymous()
            .WithSummary("Signs in with a token: sets the session cookie and returns the CSRF token for writes");
        group.MapGet("", async (HttpContext http) =>
        {
            var result = await http.AuthenticateAsync(AuthSchemes.Either);
            return TypedResults.Ok(result.Succeeded ? Describe(result.Principal) : new Session(null, null, null));
        }).AllowAnonymous().WithSummary("Who is signed in (all null when nobody is)");
        group.MapDelete("", async (HttpContext http, ILogger<SessionStore> logger) =>
        {
            await http.SignOutAsync(AuthSchemes.Session);
            LogSignedOut(logger, http.User.Actor(), http.Connection.RemoteIpAddress?.ToString() ?? "unknown");
            return TypedResults.NoContent();
        }).RequireAuthorization(ApiRoles.Viewer).AddEndpointFilter<CsrfCheck>().WithSummary("Signs out: the session ends, copies of its cookie with it");
    }

    static async Task<Results<Ok<Session>, ValidationProblem, ProblemHttpResult>> SignInAsync(HttpContext http, ApiTokens tokens, ILogger<SessionStore> logger)
    {
        var client = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var body = await JsonBody.ReadAsync<SignIn>(http.Request);
        if (body.Problem is { } problem)
        {
            return problem;
        }
        if (string.IsNullOrWhiteSpace(body.Value!.Token))
        {
            return ApiProblems.Field("token", "required: the token to sign in with");
        }
        var digest = ApiTokens.DigestOf(body.Value.Token.Trim());
        var token = await tokens.FindByDigestAsync(digest, http.RequestAborted);
        if (token is null)
        {
            LogSignInFailed(logger, client);
            return TypedResults.Problem(detail: "the token is not known or was revoked", statusCode: StatusCodes.Status401Unauthorized, title: "Not signed in");
        }
        var csrf = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
        var principal = Principals.For(token, AuthSchemes.Session, csrf, sessionId: Convert.ToHexString(RandomNumberGenerator.GetBytes(16)));
        var properties = new AuthenticationProperties { IsPersistent = false };
        properties.Items[SessionStore.TokenDigestItem] = digest;
        await http.SignInAsync(AuthSchemes.Session, principal, properties);
        LogSignedIn(logger, token.Name, ApiRoles.Name(token.Role), client);
        return TypedResults.Ok(new Session(token.Name, ApiRoles.Name(token.Role), csrf));
    }

    static Session Describe(System.Security.Claims.ClaimsPrincipal user) =>
        new(user.Actor(), user.Role(), user.FindFirst(AuthSchemes.CsrfClaim)?.Value);

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit: {Actor} signed in as {Role} from {Client}")]
    static partial void LogSignedIn(ILogger logger, string actor, string role, string client);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audit: a sign-in from {Client} failed (unknown or revoked token)")]
    static partial void LogSignInFailed(ILogger logger, string client);

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit: {Actor} signed out from {Client}")]
    static partial void LogSignedOut(ILogger logger, string actor, string client);
}
