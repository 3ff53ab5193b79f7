using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Streaming.Api.Auth;

/// <summary>
/// Writes made with a browser session must carry the session's CSRF token in a header, which another site's page
/// cannot set (and the session cookie is SameSite=Strict besides). Bearer-token requests carry no ambient credential
/// and need none.
/// </summary>
sealed class CsrfCheck : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (http.User.Identity?.AuthenticationType == AuthSchemes.Session && !HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method))
        {
            var expected = http.User.FindFirst(AuthSchemes.CsrfClaim)?.Value ?? "";
            var sent = http.Request.Headers[AuthSchemes.CsrfHeader].ToString();
            if (expected.Length == 0 || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(sent)))
            {
                return TypedResults.Problem(
                    detail: $"a write made with a browser session must send the session's CSRF token in the {AuthSchemes.CsrfHeader} header",
                    statusCode: StatusCodes.Status403Forbidden,
                    title: "Not allowed");
            }
        }
        return await next(context);
    }
}
