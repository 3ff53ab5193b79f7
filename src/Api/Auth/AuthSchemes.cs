namespace Streaming.Api.Auth;

/// <summary>The authentication schemes: a bearer token, a browser session cookie, and the scheme that picks one per request.</summary>
public static class AuthSchemes
{
    public const string Bearer = "bearer";
    public const string Session = "session";
    public const string Either = "bearer-or-session";

    public const string SessionCookie = "streaming_session";

    /// <summary>The claim that holds a session's CSRF token; writes made with the session must send it in <see cref="CsrfHeader"/>.</summary>
    public const string CsrfClaim = "csrf";

    public const string CsrfHeader = "X-CSRF-Token";

    /// <summary>The claim that names a browser session (random, per sign-in): what live event streams are counted by.</summary>
    public const string SessionIdClaim = "sid";
}
