using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Streaming.Api.Problems;

namespace Streaming.Api.Auth;

/// <summary>
/// The browser's sign-in: a token is exchanged for an HttpOnly, SameSite=Strict session cookie and a CSRF token the
/// page sends with its writes.
/// </summary>
public static class SessionEndpoints
{
    public sealed record SignIn(string? Token);

    /// <summary>Who is signed in; all null when nobody is (answered with 200, so a page can ask before it signs in).</summary>
    public sealed record Session(string? Name, string? Role, string? Csrf);

    public static void MapSessionEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/auth/session").WithTags("Sign-in");
        group.MapPost("", SignInAsync).AllowAnonymous()
            .WithSummary("Signs in with a token: sets the session cookie and returns the CSRF token for writes");
        group.MapGet("", async (HttpContext http) =>
        {
            var result = await http.AuthenticateAsync(AuthSchemes.Either);
            return TypedResults.Ok(result.Succeeded ? Describe(result.Principal) : new Session(null, null, null));
        }).AllowAnonymous().WithSummary("Who is signed in (all null when nobody is)");
        group.MapDelete("", async (HttpContext http) =>
        {
            await http.SignOutAsync(AuthSchemes.Session);
            return TypedResults.NoContent();
        }).RequireAuthorization(ApiRoles.Viewer).AddEndpointFilter<CsrfCheck>().WithSummary("Signs out");
    }

    static async Task<Results<Ok<Session>, ValidationProblem, ProblemHttpResult>> SignInAsync(HttpContext http, ApiTokens tokens)
    {
        var body = await JsonBody.ReadAsync<SignIn>(http.Request);
        if (body.Problem is { } problem)
        {
            return problem;
        }
        if (string.IsNullOrWhiteSpace(body.Value!.Token))
        {
            return ApiProblems.Field("token", "required: the token to sign in with");
        }
        var token = await tokens.FindAsync(body.Value.Token.Trim(), http.RequestAborted);
        if (token is null)
        {
            return TypedResults.Problem(detail: "the token is not known or was revoked", statusCode: StatusCodes.Status401Unauthorized, title: "Not signed in");
        }
        var csrf = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
        var principal = Principals.For(token, AuthSchemes.Session, csrf);
        await http.SignInAsync(AuthSchemes.Session, principal, new AuthenticationProperties { IsPersistent = false });
        return TypedResults.Ok(new Session(token.Name, ApiRoles.Name(token.Role), csrf));
    }

    static Session Describe(System.Security.Claims.ClaimsPrincipal user) =>
        new(user.Actor(), user.Role(), user.FindFirst(AuthSchemes.CsrfClaim)?.Value);
}
