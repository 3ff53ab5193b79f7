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

    public sealed record Session(string Name, string Role, string? Csrf);

    public static void MapSessionEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/auth/session").WithTags("Sign-in");
        group.MapPost("", SignInAsync).AllowAnonymous()
            .WithSummary("Signs in with a token: sets the session cookie and returns the CSRF token for writes");
        group.MapGet("", (HttpContext http) => TypedResults.Ok(Describe(http)))
            .RequireAuthorization(ApiRoles.Viewer).WithSummary("Who is signed in");
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

    static Session Describe(HttpContext http) =>
        new(http.User.Actor(), http.User.Role(), http.User.FindFirst(AuthSchemes.CsrfClaim)?.Value);
}
