using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streaming.Api.Problems;

namespace Streaming.Api.Auth;

/// <summary>
/// Authenticates <c>Authorization: Bearer TOKEN</c> against <see cref="ApiTokens"/>; answers 401 and 403 as
/// problem+json. The token itself is never logged: failures are logged without it.
/// </summary>
sealed class BearerTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiTokens tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    const string Prefix = "Bearer ";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Request.Headers.Authorization is not [{ } header])
        {
            return AuthenticateResult.NoResult();
        }
        if (!header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) || header.Length == Prefix.Length)
        {
            return AuthenticateResult.Fail("the Authorization header must be 'Bearer TOKEN'");
        }
        var token = await tokens.FindAsync(header[Prefix.Length..].Trim(), Context.RequestAborted);
        return token is null
            ? AuthenticateResult.Fail("the bearer token is not known or was revoked")
            : AuthenticateResult.Success(new AuthenticationTicket(Principals.For(token, AuthSchemes.Bearer), AuthSchemes.Bearer));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.Headers.WWWAuthenticate = "Bearer";
        await ApiProblems.WriteAsync(Context, StatusCodes.Status401Unauthorized,
            result.Failure?.Message ?? "sign in: send 'Authorization: Bearer TOKEN' or sign in on the dashboard");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        ApiProblems.WriteAsync(Context, StatusCodes.Status403Forbidden, ForbiddenDetail(Context));

    public static string ForbiddenDetail(HttpContext context) =>
        context.Items.TryGetValue(RoleRequirement.NeededKey, out var needed) && needed is string role
            ? $"this needs the {role} role; {context.User.Identity?.Name} has {context.User.Role()}"
            : "this token or session may not do that";
}
