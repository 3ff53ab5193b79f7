using System.Security.Claims;

namespace Streaming.Api.Auth;

/// <summary>The principal a token or a session stands for: its name is the actor of the writes it makes.</summary>
public static class Principals
{
    public static ClaimsPrincipal For(ApiToken token, string scheme, string? csrf = null, string? sessionId = null)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, token.Name) };
        claims.AddRange(ApiRoles.Granted(token.Role).Select(r => new Claim(ClaimTypes.Role, r)));
        if (csrf is not null)
        {
            claims.Add(new Claim(AuthSchemes.CsrfClaim, csrf));
        }
        if (sessionId is not null)
        {
            claims.Add(new Claim(AuthSchemes.SessionIdClaim, sessionId));
        }
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme));
    }

    public static string Actor(this ClaimsPrincipal user) =>
        user.Identity?.Name is { Length: > 0 } name ? name : throw new InvalidOperationException("the request is not authenticated");

    /// <summary>The highest role the principal holds.</summary>
    public static string Role(this ClaimsPrincipal user) =>
        user.IsInRole(ApiRoles.Admin) ? ApiRoles.Admin : user.IsInRole(ApiRoles.Operator) ? ApiRoles.Operator : ApiRoles.Viewer;
}
